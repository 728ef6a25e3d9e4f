import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {render, cleanup} from 'ink-testing-library';
import {RunApp} from '../../source/run-app.js';
import type {RunEvent} from '../../source/model/events.js';
import type {TimelineEntry} from '../../source/model/timeline.js';
import type {WatchRoundSummary} from '../../source/model/watch-view.js';
import {template} from '../helpers.js';
import {recordedEvents} from '../fixtures/run-events.js';
import {fakeRun} from './fake-run.js';
import {press, waitForFrame} from './ink-helpers.js';

afterEach(() => cleanup());

const REPORT = {text: '/tmp/pt/report.txt', json: '/tmp/pt/report.json'};
const PAGE_UP = '\u001B[5~';
const END = '\u001B[F';
const UP = '\u001B[A';

// A watch that plays scripted rounds, one per interval, and counts its starts and stops.
function scriptedWatch(rounds: Array<{events: RunEvent[]; round: Omit<WatchRoundSummary, 'round'>}>) {
	const calls = {started: 0, stopped: 0};
	const watchChecks = async (_profile: unknown, {intervalMs, onEvent, onRound, signal}: {intervalMs: number; onEvent: (event: RunEvent) => void; onRound: (round: WatchRoundSummary) => void; signal: AbortSignal}) => {
		calls.started++;
		for (const [index, {events, round}] of rounds.entries()) {
			if (signal.aborted) break;
			for (const event of events) onEvent(event);
			onRound({...round, round: index + 1});
			await new Promise(resolve => setTimeout(resolve, intervalMs));
		}
		await new Promise(resolve => (signal.aborted ? resolve(undefined) : signal.addEventListener('abort', resolve, {once: true})));
		calls.stopped++;
	};
	return {watchChecks, calls};
}

const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, s)).toISOString();
const quiet = {transitions: [], facts: [], silent: {}, wentSilent: [], answersAgain: [], durationMs: 900};

test('after a run, watch re-runs the checks: the grid turns, the changes are listed with time and reason, w stops it', async () => {
	const run = fakeRun(recordedEvents('run-demo-ok'), {outcome: {exitCode: 0, report: REPORT}});
	const watch = scriptedWatch([
		{events: [], round: {...quiet, at: at(0), green: true, facts: [{check: 'raft-quorum :2379', fact: 'leader', to: 'node01', at: at(0)}]}},
		{
			events: [{type: 'check', node: 'node02', check: 'ssh', status: 'failed', detail: 'node02 is not reachable over SSH', at: Date.now()}],
			round: {
				...quiet,
				at: at(5),
				green: false,
				silent: {node02: 'connection refused'},
				wentSilent: ['node02'],
				transitions: [{check: 'ssh', node: 'node02', from: 'ok', to: 'failed', reason: 'node02 is not reachable over SSH', at: at(5)}],
				facts: [{check: 'raft-quorum :2379', fact: 'leader', from: 'node01', to: 'node03', at: at(5)}],
			},
		},
	]);
	const {lastFrame, stdin} = render(<RunApp profile={template()} services={{...run.services, watchChecks: watch.watchChecks}} onExit={() => undefined} options={{tickMs: 20, watchIntervalMs: 150}} />);
	let frame = await waitForFrame(lastFrame, f => f.includes('10:00:05 node02 ssh: ok -> failed') && /ssh +✓ ok +✗ failed +✓ ok/.test(f), 'the change watch saw, and the grid with the new result');
	assert.match(frame, /watch: on, every 150 ms · round 2 at 10:00:05: not green · silent: node02 · w stops/);
	assert.match(frame, /10:00:05 node02 does not answer on SSH/);
	assert.match(frame, /10:00:05 node02 ssh: ok -> failed: node02 is not reachable over SSH/);
	assert.match(frame, /10:00:05 cluster leader: node01 -> node03 \(raft-quorum :2379\)/);
	// The first round's results are the checklist itself, not changes.
	assert.doesNotMatch(frame, /10:00:00 node0\d ssh/);
	assert.equal(watch.calls.started, 1);

	await press(stdin, 'w');
	frame = await waitForFrame(lastFrame, f => f.includes('watch: off'), 'watch off');
	for (let waited = 0; watch.calls.stopped === 0 && waited < 2000; waited += 20) await new Promise(resolve => setTimeout(resolve, 20));
	assert.equal(watch.calls.stopped, 1, 'w stops the running watch');
	await press(stdin, 'w');
	await waitForFrame(lastFrame, f => f.includes('watch: on'), 'watch on again');
	for (let waited = 0; watch.calls.started < 2 && waited < 2000; waited += 20) await new Promise(resolve => setTimeout(resolve, 20));
	assert.equal(watch.calls.started, 2, 'w starts it again');
});

test('no watch after an interrupted run: w does nothing and the checklist says nothing of it', async () => {
	const run = fakeRun(recordedEvents('run-demo-ok'), {outcome: {exitCode: 130, interrupted: true}});
	const watch = scriptedWatch([]);
	const {lastFrame, stdin} = render(<RunApp profile={template()} services={{...run.services, watchChecks: watch.watchChecks}} onExit={() => undefined} options={{tickMs: 20, watchIntervalMs: 100}} />);
	await waitForFrame(lastFrame, f => f.includes('interrupted'), 'the interrupted run');
	await press(stdin, 'v', 'w');
	const frame = await waitForFrame(lastFrame, f => f.includes('Checks:'), 'the checklist');
	assert.doesNotMatch(frame, /watch:/);
	assert.equal(watch.calls.started, 0);
});

test('t shows the timeline, newest at the bottom; it follows new entries until scrolled up, End follows again', async () => {
	const entries: TimelineEntry[] = [
		{at: at(0), kind: 'run', subject: 'demo', detail: 'plasma-tui up'},
		...Array.from({length: 40}, (_, i): TimelineEntry => ({at: at(1 + i), kind: 'node-phase', subject: `node0${(i % 3) + 1}`, node: `node0${(i % 3) + 1}`, from: 'pending', to: 'booting'})),
		{at: at(45), kind: 'check', subject: 'ssh', node: 'node02', from: 'ok', to: 'failed', detail: 'node02 is not reachable over SSH'},
	];
	const run = fakeRun(recordedEvents('run-demo-ok'), {outcome: {exitCode: 0, report: REPORT}});
	const {lastFrame, stdin} = render(<RunApp profile={template()} services={{...run.services, readTimeline: async () => [...entries]}} onExit={() => undefined} options={{tickMs: 20, timelinePollMs: 50}} />);
	await waitForFrame(lastFrame, f => f.includes('report saved'), 'the checklist');
	await press(stdin, 't');
	let frame = await waitForFrame(lastFrame, f => f.includes('Timeline: 42 entries · following'), 'the timeline');
	assert.match(frame, /\+45\.0s check ssh on node02 ok -> failed: node02 is not reachable over SSH/);
	assert.doesNotMatch(frame, /run: plasma-tui up/, 'the oldest entries are above the window');

	await press(stdin, PAGE_UP);
	frame = await waitForFrame(lastFrame, f => f.includes('scrolled up'), 'scrolled up');
	assert.doesNotMatch(frame, /check ssh on node02/);
	const scrolled = /scrolled up (\d+) entries/.exec(frame)![1];
	entries.push({at: at(50), kind: 'fact', subject: 'leader', from: 'node01', to: 'node03'});
	frame = await waitForFrame(lastFrame, f => f.includes('Timeline: 43 entries'), 'the new entry counted');
	assert.equal(/scrolled up (\d+) entries/.exec(frame)![1], String(Number(scrolled) + 1), 'the window stays put');
	assert.doesNotMatch(frame, /fact leader/);

	await press(stdin, END);
	frame = await waitForFrame(lastFrame, f => f.includes('following'), 'following again');
	assert.match(frame, /\+50\.0s fact leader node01 -> node03/);
	await press(stdin, UP);
	frame = await waitForFrame(lastFrame, f => f.includes('scrolled up 1 entries'), 'one line up');
	assert.doesNotMatch(frame, /fact leader/);
	await press(stdin, 'v');
	await waitForFrame(lastFrame, f => f.includes('Checks: 24 ok'), 'back to the checklist');
});
