// Issue 9, point 1: on main before this, `down` removed <workDir>/run and `down --purge` the whole
// workDir with `rm -rf`, whatever it was: a workDir pointing at a folder of the operator's lost it all.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {teardown} from '../../source/services/teardown.js';
import {ensureWorkDirs, OWNED_MARKER} from '../../source/services/owned-dir.js';
import {planIn, template, tempDir} from '../helpers.js';

test("down --purge on a workDir that is a folder of the operator's (no marker) deletes nothing and says so", async () => {
	const base = tempDir();
	const folder = path.join(base, 'papers');
	mkdirSync(path.join(folder, 'run'), {recursive: true});
	writeFileSync(path.join(folder, 'thesis.tex'), 'years of work\n');
	writeFileSync(path.join(folder, 'run', 'experiment.log'), 'results\n');
	const plan = planIn(base, {...template(), workDir: folder});

	const report = await teardown(plan, {purge: true, graceMs: 100});
	assert.deepEqual(report.removed, []);
	assert.deepEqual(report.refused, [`${path.join(folder, 'run')} has no ${OWNED_MARKER} marker, so plasma-tui did not make it: left in place`, `${folder} has no ${OWNED_MARKER} marker, so plasma-tui did not make it: left in place`]);
	assert.equal(readFileSync(path.join(folder, 'thesis.tex'), 'utf8'), 'years of work\n');
	assert.equal(readFileSync(path.join(folder, 'run', 'experiment.log'), 'utf8'), 'results\n');
});

test('down --purge removes a work directory the tool made, and a symlinked workDir is never followed', async () => {
	const base = tempDir();
	const plan = planIn(base);
	await ensureWorkDirs(plan.workDir, [path.join(plan.workDir, 'run', 'node01'), plan.nodes[0]!.dir]);
	writeFileSync(plan.nodes[0]!.disk.path, 'disk');
	const report = await teardown(plan, {purge: true, graceMs: 100});
	assert.deepEqual(report.removed, [path.join(plan.workDir, 'run'), plan.workDir]);
	assert.equal(existsSync(plan.workDir), false);

	// A workDir that is a symlink to a directory the tool made: the link is refused, the target kept.
	const target = path.join(base, 'real');
	await ensureWorkDirs(target);
	const {symlinkSync} = await import('node:fs');
	const link = path.join(base, 'link');
	symlinkSync(target, link);
	const linked = await teardown(planIn(base, {...template(), workDir: link}), {purge: true, graceMs: 100});
	assert.deepEqual(linked.removed, []);
	assert.ok(linked.refused?.some(line => line.startsWith(`${link} is not a directory plasma-tui made (a symlink)`)));
	assert.ok(existsSync(path.join(target, OWNED_MARKER)));
});
