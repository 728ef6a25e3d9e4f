import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {openSnapshotState, saveSnapshot} from '../../source/engine/snapshot.js';
import type {RunEvent} from '../../source/model/events.js';
import {readState, StateStore} from '../../source/services/state.js';
import {planIn, template, tempDir} from '../helpers.js';

// A snapshot operation is on record in the state file before its first step: one cut short
// (the process killed mid-save) is said by the next snapshot command, which clears it.
test('an operation left in the state file is reported by the next snapshot command and cleared', async () => {
	const dir = tempDir('plasma-snapint-');
	const profile = template();
	const plan = planIn(dir, profile);
	const state = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
	await state.update(s => {
		s.snapshot = {action: 'save', name: 's1', startedAt: '2026-12-01T10:00:00.000Z', pid: 999_999, nodes: {node01: 'saved', node02: 'paused', node03: 'paused'}};
	});
	assert.equal((await readState(plan.stateFile))?.snapshot?.name, 's1');

	const events: RunEvent[] = [];
	await openSnapshotState(profile, plan, event => events.push(event));
	const said = events.flatMap(e => (e.type === 'log' ? [e.message] : []));
	assert.ok(said.includes('an earlier `snapshot save s1` (pid 999999, started 2026-12-01T10:00:00.000Z) did not finish: node01 saved, node02 paused, node03 paused'), said.join('\n'));
	assert.ok(said.some(line => line.includes('snapshot delete s1')), said.join('\n'));
	assert.equal((await readState(plan.stateFile))?.snapshot, undefined);
	fs.rmSync(dir, {recursive: true, force: true});
});

test('a save of a cluster that does not run is refused before anything is recorded', async () => {
	const dir = tempDir('plasma-snapint-');
	const profile = template();
	const plan = planIn(dir, profile);
	await assert.rejects(saveSnapshot(profile, plan, 's1', {onEvent: () => undefined}), /every node must run: node01 is not running; node02 is not running; node03 is not running \(fix: start the cluster/);
	assert.equal((await readState(plan.stateFile))?.snapshot, undefined);
	assert.equal(fs.existsSync(plan.snapshotsDir), false);
	await assert.rejects(saveSnapshot(profile, plan, '../x', {onEvent: () => undefined}), /NAME: "\.\.\/x" is not a snapshot name/);
	fs.rmSync(dir, {recursive: true, force: true});
});

test('saved snapshots are listed by down --purge before it deletes, and counted by the disk check', async () => {
	const {writeSnapshotMeta} = await import('../../source/services/snapshots.js');
	const {purgeInventory} = await import('../../source/services/teardown.js');
	const {runPreflight} = await import('../../source/services/preflight.js');
	const {snapshotNodeOf} = await import('../../source/model/snapshot.js');
	const dir = tempDir('plasma-snapint-');
	const plan = planIn(dir, template());
	await writeSnapshotMeta(plan, {
		version: 1,
		name: 's1',
		profile: plan.profileName,
		takenAt: '2026-12-01T10:00:00.000Z',
		accel: 'tcg',
		nodes: plan.nodes.map(node => ({...snapshotNodeOf(node), installed: true, vmStateBytes: 300 * 2 ** 20, diskGrowthBytes: 310 * 2 ** 20})),
		pauseSpreadMs: 0.5,
		pausedMs: 700,
		saveMs: 400,
	});
	const inventory = await purgeInventory(plan);
	assert.ok(inventory.items.includes(`snapshot s1 (taken 2026-12-01T10:00:00.000Z, 3 nodes, 930 MiB inside the node disks; metadata ${plan.snapshotsDir}/s1.json)`), inventory.items.join('\n'));
	const disk = (await runPreflight(plan, {probeKvm: false})).find(f => f.id === 'disk');
	assert.match(disk?.message ?? '', /1 snapshot\(s\) hold 0\.91 GiB of them: plasma-tui snapshot list/);
	assert.equal(fs.statSync(`${plan.snapshotsDir}/s1.json`).mode & 0o777, 0o600);
	fs.rmSync(dir, {recursive: true, force: true});
});
