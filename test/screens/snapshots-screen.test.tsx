import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {render, cleanup} from 'ink-testing-library';
import {RunApp} from '../../source/run-app.js';
import type {SnapshotServices} from '../../source/hooks/snapshot-services.js';
import type {SnapshotRow} from '../../source/model/snapshot.js';
import {template} from '../helpers.js';
import {recordedEvents} from '../fixtures/run-events.js';
import {fakeRun} from './fake-run.js';
import {KEYS, press, waitForFrame} from './ink-helpers.js';

afterEach(() => cleanup());

const MiB = 2 ** 20;

// A stand-in for the snapshot engine: a list in memory, every call recorded.
function fakeSnapshots(rows: SnapshotRow[]) {
	const calls: string[] = [];
	const services: SnapshotServices = {
		list: async () => [...rows],
		async save(_profile, name) {
			calls.push(`save ${name}`);
			rows.push({name, takenAt: '2026-12-01T12:00:00.000Z', nodes: 3, sizeBytes: 450 * MiB});
			return {ok: true, message: `saved ${name}: 3 nodes paused within 0.4 ms`};
		},
		async restore(_profile, name) {
			calls.push(`restore ${name}`);
			return {ok: true, message: `restored ${name} in 2.1 s; all 24 checks green`};
		},
		async remove(_profile, name) {
			calls.push(`delete ${name}`);
			rows.splice(rows.findIndex(r => r.name === name), 1);
			return {ok: true, message: `deleted ${name}`};
		},
	};
	return {services, calls};
}

// ended: false keeps the run going (it ends only when aborted).
function mount(snapshots: SnapshotServices, ended = true) {
	const run = fakeRun(recordedEvents('run-demo-ok'), {outcome: ended ? {exitCode: 0} : undefined});
	return render(<RunApp profile={template()} services={{...run.services, snapshots}} onExit={() => undefined} options={{tickMs: 20}} />);
}

test('s opens the snapshot list: name, time, node count, size; n saves, r and d ask first and act on the chosen one', async () => {
	const fake = fakeSnapshots([
		{name: 's1', takenAt: '2026-12-01T10:00:00.000Z', nodes: 3, sizeBytes: 447 * MiB},
		{name: 'before-upgrade', takenAt: '2026-12-01T11:30:00.000Z', nodes: 3, sizeBytes: 451 * MiB},
	]);
	const {stdin, lastFrame} = mount(fake.services);
	await waitForFrame(lastFrame, f => f.includes('done: every stage passed'), 'the run to end');
	await press(stdin, 's');
	let frame = await waitForFrame(lastFrame, f => f.includes('before-upgrade'), 'the snapshot list');
	assert.match(frame, /name +taken +nodes +size/);
	assert.match(frame, /s1 +2026-12-01 10:00:00 +3 +447 MiB/);
	assert.match(frame, /before-upgrade +2026-12-01 11:30:00 +3 +451 MiB/);
	assert.match(frame, /n save · r restore · d delete/);

	await press(stdin, 'n');
	frame = await waitForFrame(lastFrame, f => f.includes('saved snap-'), 'the save outcome');
	assert.match(fake.calls[0]!, /^save snap-\d{8}-\d{6}$/);
	assert.match(frame, /snap-\d{8}-\d{6} +2026-12-01 12:00:00 +3 +450 MiB/);

	// The second row, then r: asked first; n keeps everything as it is.
	await press(stdin, KEYS.down, 'r');
	frame = await waitForFrame(lastFrame, f => f.includes('Restore before-upgrade?'), 'the restore question');
	await press(stdin, 'n');
	await waitForFrame(lastFrame, f => !f.includes('Restore before-upgrade?'), 'the question gone');
	assert.equal(fake.calls.length, 1);
	await press(stdin, 'r', 'y');
	frame = await waitForFrame(lastFrame, f => f.includes('restored before-upgrade in 2.1 s; all 24 checks green'), 'the restore outcome');
	assert.deepEqual(fake.calls.slice(1), ['restore before-upgrade']);

	await press(stdin, KEYS.up, 'd');
	await waitForFrame(lastFrame, f => f.includes("Delete s1 from every node's disk?"), 'the delete question');
	await press(stdin, 'y');
	frame = await waitForFrame(lastFrame, f => f.includes('deleted s1'), 'the delete outcome');
	assert.deepEqual(fake.calls.slice(2), ['delete s1']);
	assert.doesNotMatch(frame, /s1 +2026-12-01 10:00/);
});

test('while the run still goes, the list is shown but nothing is saved or restored', async () => {
	const fake = fakeSnapshots([{name: 's1', takenAt: '2026-12-01T10:00:00.000Z', nodes: 3, sizeBytes: 447 * MiB}]);
	const {stdin, lastFrame} = mount(fake.services, false);
	await press(stdin, 's');
	await waitForFrame(lastFrame, f => f.includes('available once the run has ended'), 'the list, unavailable');
	await press(stdin, 'n', 'r', 'y');
	await new Promise(resolve => setTimeout(resolve, 100));
	assert.deepEqual(fake.calls, []);
});
