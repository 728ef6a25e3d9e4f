import {test} from 'node:test';
import assert from 'node:assert/strict';
import {pauseAll, resumeAll, type NodeMonitor} from '../../source/engine/cluster-pause.js';
import {endedWithQemu, faultsBlock, isFrozen, removeRefusal, type ActiveFault} from '../../source/model/fault.js';
import type {QmpClient} from '../../source/services/qmp.js';
import {guardVerdict} from '../../source/engine/faults.js';
import {membersDown} from '../../source/model/node-membership.js';
import {nodePowerDecision} from '../../source/model/node-power.js';
import type {Plan} from '../../source/model/plan.js';

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

const three = {nodes: ['node01', 'node02', 'node03'].map(name => ({name, role: 'control-plane' as const}))};
const allAlive = new Set(['node01', 'node02', 'node03']);

test('one members-down rule: faults, stopped nodes, dead QEMUs and failed phases all count', () => {
	assert.deepEqual(membersDown(three, {lifecycle: {stoppedNodes: ['node03']}}, allAlive), ['node03']);
	assert.deepEqual(membersDown(three, {faults: [{kind: 'frozen', node: 'node01', at}]}, allAlive), ['node01']);
	assert.deepEqual(membersDown(three, {faults: [{kind: 'partition', groups: [['node01', 'node02'], ['node03']], vlans: [1, 2], at}]}, allAlive), ['node03']);
	assert.deepEqual(membersDown(three, {faults: [{kind: 'impaired', node: 'node01', at, delayMs: 100}]}, allAlive), []);
	assert.deepEqual(membersDown(three, undefined, new Set(['node01', 'node02'])), ['node03']);
	assert.deepEqual(membersDown(three, {nodes: {node02: {phase: 'failed'}}}, allAlive), ['node02']);
});

test('node stopped, then fault kill another: the quorum guard says it loses quorum', () => {
	const down = membersDown(three, {lifecycle: {stoppedNodes: ['node03']}}, allAlive);
	const verdict = guardVerdict(three as unknown as Plan, {action: 'kill', node: 'node01'}, down);
	assert.equal(verdict?.losesQuorum, true);
});

test('fault freeze, then node stop another: the quorum guard says it loses quorum', () => {
	const down = membersDown(three, {faults: [{kind: 'frozen', node: 'node01', at}]}, allAlive);
	const verdict = nodePowerDecision(['node01', 'node02', 'node03'], 'node02', 'stop', down);
	assert.equal(verdict.losesQuorum, true);
	assert.equal(nodePowerDecision(['node01', 'node02', 'node03'], 'node01', 'start', down).losesQuorum, false);
});

test('a node\'s faults that end with its QEMU (stopped, or booted again) are dropped; the others stay', () => {
	const faults: ActiveFault[] = [
		{kind: 'killed', node: 'node01', at},
		{kind: 'frozen', node: 'node02', at},
		{kind: 'isolated', node: 'node02', at},
		{kind: 'impaired', node: 'node02', at, delayMs: 100},
		{kind: 'partition', groups: [['node01', 'node02'], ['node03']], vlans: [1, 2], at},
	];
	assert.deepEqual(endedWithQemu(faults, 'node01'), [faults[0]]);
	assert.deepEqual(endedWithQemu(faults, 'node02'), [faults[1], faults[2]]);
	assert.deepEqual(endedWithQemu(faults, 'node03'), []);
	assert.equal(isFrozen(faults, 'node02'), true);
	assert.equal(isFrozen(faults, 'node01'), false);
});

test('node remove is refused while the node is in a fault heal or thaw undoes; a killed node may go', () => {
	const faults: ActiveFault[] = [
		{kind: 'killed', node: 'node01', at},
		{kind: 'frozen', node: 'node02', at},
		{kind: 'partition', groups: [['node01', 'node02'], ['node03']], vlans: [1, 2], at},
	];
	const partition = removeRefusal(faults, 'node03');
	assert.ok(partition);
	assert.match(partition.message, /node03 is in an active fault: partition node01,node02 \| node03/);
	assert.equal(partition.fix, 'plasma-tui fault heal / plasma-tui fault thaw first');
	assert.match(removeRefusal(faults, 'node02')?.message ?? '', /node02: frozen/);
	assert.equal(removeRefusal([faults[0]!], 'node01'), undefined);
	assert.equal(removeRefusal([], 'node01'), undefined);
});
