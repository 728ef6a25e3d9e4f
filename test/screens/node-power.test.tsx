import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {render, cleanup} from 'ink-testing-library';
import {RunApp} from '../../source/run-app.js';
import {startGuard, type NodePowerAction} from '../../source/model/node-power.js';
import {quorumVerdict} from '../../source/model/quorum.js';
import {template} from '../helpers.js';
import {recordedEvents} from '../fixtures/run-events.js';
import {fakeRun} from './fake-run.js';
import {KEYS, press, waitForFrame} from './ink-helpers.js';

afterEach(() => cleanup());

const MEMBERS = ['node01', 'node02', 'node03'];

// A finished run with the guard and the action behind the node keys; node01 is already down.
function mountWithPower() {
	const run = fakeRun(recordedEvents('run-demo-ok'), {outcome: {exitCode: 0}});
	const done: Array<[string, NodePowerAction]> = [];
	run.services.nodePowerGuard = async (_profile, node, action) => {
		if (action === 'start') return startGuard(node, MEMBERS, ['node01']);
		const verdict = quorumVerdict({members: MEMBERS, alreadyDown: ['node01'], takes: [node], verb: action === 'stop' ? 'stopping' : 'restarting'});
		return {message: verdict.message, losesQuorum: verdict.losesQuorum};
	};
	run.services.powerNode = async (_profile, node, action, {onEvent}) => {
		done.push([node, action]);
		onEvent({type: 'node-phase', node, phase: 'pending', reason: 'stopped (powered-down)', at: Date.now()});
		return 'stopped (powered-down)';
	};
	const mounted = render(<RunApp profile={template()} services={run.services} onExit={() => undefined} options={{tickMs: 20}} />);
	return {...mounted, done};
}

test('x on the focused console asks with the quorum guard message; n leaves the node alone, y stops it', async () => {
	const {stdin, lastFrame, done} = mountWithPower();
	await waitForFrame(lastFrame, f => f.includes('done: every stage passed'), 'the finished run');
	await press(stdin, 'c');
	await waitForFrame(lastFrame, f => f.includes('node01 · 52 lines'), 'the console view');
	await press(stdin, KEYS.tab, 'x');
	let frame = await waitForFrame(lastFrame, f => f.includes('Proceed? y/n'), 'the confirm overlay');
	assert.match(frame, /stop node02/);
	assert.match(frame, /stopping node02 leaves 1 of 3 members: the cluster loses quorum \(needs 2\)\. Proceed\? y\/n/);
	await press(stdin, 'n');
	await waitForFrame(lastFrame, f => !f.includes('Proceed?'), 'the overlay closed');
	assert.deepEqual(done, [], 'n does nothing');
	await press(stdin, 'x');
	await waitForFrame(lastFrame, f => f.includes('Proceed? y/n'), 'the confirm overlay again');
	await press(stdin, 'y');
	frame = await waitForFrame(lastFrame, f => f.includes('node02: stopped (powered-down)'), 'the outcome in the status line');
	assert.deepEqual(done, [['node02', 'stop']]);
	assert.doesNotMatch(frame, /Proceed\?/);
});

test('s on the focused console starts it after the guard says how many members it brings back', async () => {
	const {stdin, lastFrame, done} = mountWithPower();
	await waitForFrame(lastFrame, f => f.includes('done: every stage passed'), 'the finished run');
	await press(stdin, 'c');
	await waitForFrame(lastFrame, f => f.includes('node01 · 52 lines'), 'the console view');
	await press(stdin, 's');
	await waitForFrame(lastFrame, f => f.includes('starting node01: 2 of 3 members up before, 3 after. Proceed? y/n'), 'the guard for a start');
	await press(stdin, 'y');
	await waitForFrame(lastFrame, f => f.includes('node01: stopped (powered-down)'), 'the outcome');
	assert.deepEqual(done, [['node01', 'start']]);
});
