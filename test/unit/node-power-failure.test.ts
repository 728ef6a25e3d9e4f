import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {powerNode} from '../../source/engine/node-power.js';
import type {RunEvent} from '../../source/model/events.js';
import {readState, StateStore} from '../../source/services/state.js';
import {teardown} from '../../source/services/teardown.js';
import {planIn, template, tempDir} from '../helpers.js';

// A node start that fails half-way leaves the node `failed` with the reason, not `booting` for ever.
// Interrupted before its first process starts (no VM, no switch).
test('a node start that fails marks the node failed with the reason', {timeout: 30_000}, async () => {
	const dir = tempDir('plasma-node-power-');
	const profile = template();
	const plan = planIn(dir, profile);
	try {
		const state = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
		await state.setLifecycle('running', () => ['node02']);
		const events: RunEvent[] = [];
		const controller = new AbortController();
		controller.abort(new Error('interrupted by the operator'));
		await assert.rejects(powerNode(profile, plan, 'node02', 'start', {onEvent: event => events.push(event), signal: controller.signal}), /interrupted/);
		const after = (await readState(plan.stateFile))!;
		assert.equal(after.nodes['node02']?.phase, 'failed');
		assert.match(after.nodes['node02']?.reason ?? '', /start failed: interrupted by the operator/);
		assert.ok(events.some(event => event.type === 'node-phase' && event.node === 'node02' && event.phase === 'failed'));
	} finally {
		await teardown(plan, {graceMs: 200}).catch(() => undefined);
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
