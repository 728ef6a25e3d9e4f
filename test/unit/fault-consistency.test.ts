import {test} from 'node:test';
import assert from 'node:assert/strict';
import {pauseAll, resumeAll, type NodeMonitor} from '../../source/engine/cluster-pause.js';
import {faultsBlock, type ActiveFault} from '../../source/model/fault.js';
import type {QmpClient} from '../../source/services/qmp.js';

const at = '2026-01-01T00:00:00.000Z';

// A monitor whose QEMU answers run states and records the commands it got.
function fakeMonitor(name: string, initial: 'running' | 'paused'): {monitor: NodeMonitor; sent: string[]} {
	let status: string = initial;
	const sent: string[] = [];
	const qmp = {
		runState: async () => status,
		waitForEvent: async (event: string) => ({event, timestamp: {seconds: 1, microseconds: 0}}),
		execute: async (command: string) => {
			sent.push(command);
			status = command === 'stop' ? 'paused' : 'running';
			return {};
		},
	} as unknown as QmpClient;
	return {monitor: {node: {name} as NodeMonitor['node'], qmp}, sent};
}

test('resumeAll resumes only the nodes pauseAll paused: a frozen node stays frozen', async () => {
	const a = fakeMonitor('node01', 'running');
	const frozen = fakeMonitor('node02', 'paused');
	const monitors = [a.monitor, frozen.monitor];
	await pauseAll(monitors);
	await resumeAll(monitors);
	assert.deepEqual(a.sent, ['stop', 'cont']);
	assert.deepEqual(frozen.sent, []);
	// A second resume (an error path after the first) sends nothing again.
	await resumeAll(monitors);
	assert.deepEqual(a.sent, ['stop', 'cont']);
});

test('snapshot save and restore are refused while faults are active, naming them', () => {
	assert.equal(faultsBlock([], 'snapshot save'), undefined);
	const faults: ActiveFault[] = [
		{kind: 'frozen', node: 'node02', at},
		{kind: 'partition', groups: [['node01'], ['node02', 'node03']], vlans: [1, 2], at},
	];
	const problem = faultsBlock(faults, 'snapshot restore');
	assert.ok(problem);
	assert.match(problem.message, /snapshot restore.*node02: frozen.*partition node01 \| node02,node03/);
	assert.equal(problem.fix, 'plasma-tui fault heal; plasma-tui fault thaw');
});
