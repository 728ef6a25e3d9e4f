import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {fieldError} from '../../source/model/field-error.js';
import {runUp} from '../../source/engine/up.js';
import type {RunEvent} from '../../source/model/events.js';
import {planIn, tempDir, template} from '../helpers.js';

// The engine takes the plan it is given: it never builds a second one that could disagree.
test('runUp runs on the plan it is handed: a problem only that plan has ends the run before preflight', async () => {
	const dir = tempDir('plasma-up-plan-');
	const plan = planIn(dir, template());
	plan.problems = [fieldError('workDir', 'planted in the caller\'s plan', 'nothing')];
	const events: RunEvent[] = [];
	const result = await runUp(template(), {plan, onEvent: event => events.push(event)});
	assert.equal(result.exitCode, 2);
	assert.equal(result.failedStage, 'preflight');
	assert.equal(result.plan, plan);
	assert.ok(events.some(e => e.type === 'stage' && e.status === 'failed' && e.message === "workDir: planted in the caller's plan (fix: nothing)"), JSON.stringify(events));
	// Refused before any probing or writing: nothing of the run exists.
	assert.equal(existsSync(plan.workDir), false);
	assert.equal(existsSync(plan.kvmProbeCache), false);
});
