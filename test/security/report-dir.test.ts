// Issue 9, point 12: on main before this, writeReport made a missing work directory with
// `mkdir({recursive: true})`, i.e. 0755 (umask 022), unmarked and unchecked.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdirSync, statSync, symlinkSync} from 'node:fs';
import path from 'node:path';
import {writeReport} from '../../source/engine/validation.js';
import {OWNED_MARKER, UnsafeDirError} from '../../source/services/owned-dir.js';
import {planIn, tempDir} from '../helpers.js';

const report = {profile: 'demo', ok: true, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), results: []};

test('writeReport makes a missing work directory 0700 and marked, and refuses a symlinked one', async () => {
	const base = tempDir();
	const plan = planIn(base);
	await writeReport(plan, report);
	assert.equal(statSync(plan.workDir).mode & 0o777, 0o700);
	assert.ok(existsSync(path.join(plan.workDir, OWNED_MARKER)));
	assert.ok(existsSync(plan.report.json));

	const other = tempDir();
	mkdirSync(path.join(other, 'real'));
	const linked = planIn(other);
	mkdirSync(path.dirname(linked.workDir), {recursive: true});
	symlinkSync(path.join(other, 'real'), linked.workDir);
	await assert.rejects(writeReport(linked, report), UnsafeDirError);
	assert.equal(existsSync(path.join(other, 'real', 'report.json')), false);
});
