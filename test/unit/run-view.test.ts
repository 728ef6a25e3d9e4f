import {test} from 'node:test';
import assert from 'node:assert/strict';
import {applyRunEvent, applyRunEvents, checkSummary, CLUSTER_ROW, createRunView, currentStage, failedChecks, stageOf} from '../../source/model/run-view.js';
import {recordedEvents} from '../fixtures/run-events.js';

const NODES = ['node01', 'node02', 'node03'];

test('a recorded successful run ends with every node healthy and every check ok', () => {
	const view = applyRunEvents(createRunView(NODES, 0), recordedEvents('run-demo-ok', 0));
	assert.deepEqual(
		NODES.map(n => view.nodes[n]!.phase),
		['healthy', 'healthy', 'healthy'],
	);
	assert.deepEqual(
		view.stages.map(s => `${s.name}:${s.status}`),
		['preflight:done', 'image:done', 'certificates:done', 'boot:done', 'install:done', 'validate:done'],
	);
	assert.deepEqual(checkSummary(view), {ok: 24, failed: 0, waiting: 0, notRun: 0, total: 24});
	assert.equal(view.checks[CLUSTER_ROW]!['raft-quorum :2379']!.status, 'ok');
	assert.equal(view.nodes['node01']!.lastConsole, 'plasma-ready node01 192.168.100.11');
	assert.equal(view.nodes['node02']!.install.last(), 'etcd started (pid 257)');
	assert.equal(view.nodes['node01']!.wait, undefined, 'a phase change ends the wait');
});

test('phase, reason and phase start time come from node-phase events', () => {
	let view = createRunView(NODES, 1000);
	view = applyRunEvent(view, {type: 'node-phase', node: 'node02', phase: 'booting', at: 2000});
	view = applyRunEvent(view, {type: 'node-phase', node: 'node02', phase: 'failed', reason: 'QEMU exited (code 1)', at: 5000});
	assert.equal(view.nodes['node02']!.phase, 'failed');
	assert.equal(view.nodes['node02']!.reason, 'QEMU exited (code 1)');
	assert.equal(view.nodes['node02']!.phaseSince, 5000);
	assert.equal(view.nodes['node01']!.phaseSince, 1000);
});

test('a wait keeps what it waits for and the last error until the phase moves on', () => {
	let view = createRunView(NODES, 0);
	view = applyRunEvent(view, {type: 'node-wait', node: 'node01', waitingFor: 'ssh on 127.0.0.1:2241', lastError: 'connection reset by 127.0.0.1:2241', elapsedMs: 11_000, at: 11_000});
	assert.deepEqual(view.nodes['node01']!.wait, {waitingFor: 'ssh on 127.0.0.1:2241', lastError: 'connection reset by 127.0.0.1:2241', elapsedMs: 11_000, at: 11_000});
	view = applyRunEvent(view, {type: 'node-phase', node: 'node01', phase: 'ssh-ready', at: 12_000});
	assert.equal(view.nodes['node01']!.wait, undefined);
});

test('the stall warning is a hint on the node until it prints again', () => {
	const view = applyRunEvents(createRunView(NODES, 0), recordedEvents('run-demo-stall', 0));
	assert.equal(view.nodes['node02']!.stall, 'no console output for 60 s: check the kernel / initrd / accelerator');
	assert.equal(view.nodes['node01']!.stall, undefined);
	const printed = applyRunEvent(view, {type: 'console', node: 'node02', line: '[    0.000000] Linux version 6.1.0-56-amd64', at: 70_000});
	assert.equal(printed.nodes['node02']!.stall, undefined);
	assert.equal(view.nodes['node02']!.stall, 'no console output for 60 s: check the kernel / initrd / accelerator', 'the earlier view is not changed');
	assert.equal(view.nodes['node03']!.phase, 'failed');
	assert.match(view.nodes['node03']!.reason!, /^QEMU exited \(code 1\); last lines: Kernel panic/);
});

test('failed checks carry their reason and the node\'s last console line', () => {
	const view = applyRunEvents(createRunView(NODES, 0), recordedEvents('run-demo-checks-failed', 0));
	const summary = checkSummary(view);
	assert.equal(summary.failed, 4);
	assert.equal(summary.ok, 20);
	const failures = failedChecks(view);
	assert.deepEqual(
		failures.map(f => `${f.row} ${f.check}`),
		['node03 etcd client port', 'node03 etcd health', 'node03 metrics :2379', 'node03 tls :2379'],
	);
	assert.equal(failures[1]!.reason, 'connect ECONNREFUSED 192.168.100.13:2379');
	assert.equal(failures[1]!.logLine, "console: etcd: stopped by 'svc stop etcd'");
	assert.equal(currentStage(view)?.status, 'failed');
	// The engine's own explanation (the service log named by explainLog) wins over the console.
	const explained = applyRunEvents(view, [{type: 'check', node: 'node03', check: 'etcd health', status: 'failed', detail: 'refused', logLine: '/var/log/etcd.log: embed: rejected connection', at: 99}]);
	assert.equal(failedChecks(explained)[1]!.logLine, '/var/log/etcd.log: embed: rejected connection');
});

test('a flood of console lines keeps the buffer at its capacity and the newest lines', () => {
	let view = createRunView(NODES, 0, {consoleLines: 2000});
	const first = view.nodes['node01']!.console;
	for (let batch = 0; batch < 50; batch++) {
		const events = Array.from({length: 1000}, (_, i) => ({type: 'console' as const, node: 'node01', line: `flood ${batch * 1000 + i}`, at: batch}));
		view = applyRunEvents(view, events);
	}
	const buffer = view.nodes['node01']!.console;
	assert.equal(buffer, first, 'the buffer is shared, not copied per batch');
	assert.equal(buffer.size, 2000);
	assert.equal(buffer.total, 50_000);
	assert.equal(buffer.last(), 'flood 49999');
	assert.deepEqual(buffer.slice(0, 2), ['flood 48000', 'flood 48001']);
	assert.equal(view.events, 50_000);
});

test('a node the profile did not list still gets a pane', () => {
	const view = applyRunEvent(createRunView(['node01'], 0), {type: 'console', node: 'node09', line: 'hello', at: 1});
	assert.deepEqual(view.nodeNames, ['node01', 'node09']);
	assert.equal(view.nodes['node09']!.lastConsole, 'hello');
});

test('stages are shown in run order, whichever of two overlapping stages reported first', () => {
	const view = applyRunEvents(createRunView(NODES, 0), [
		{type: 'stage', stage: 'preflight', status: 'done', at: 1},
		{type: 'stage', stage: 'certificates', status: 'start', at: 2},
		{type: 'stage', stage: 'image', status: 'start', at: 3},
		{type: 'stage', stage: 'install', status: 'start', at: 4},
		{type: 'stage', stage: 'boot', status: 'done', at: 5},
	]);
	assert.deepEqual(
		view.stages.map(s => s.name),
		['preflight', 'image', 'certificates', 'boot', 'install'],
	);
	assert.equal(stageOf(view, 'boot')?.status, 'done');
	assert.equal(stageOf(view, 'validate'), undefined);
});
