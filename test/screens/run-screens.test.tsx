import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {render, cleanup} from 'ink-testing-library';
import {RunApp} from '../../source/run-app.js';
import {template} from '../helpers.js';
import {recordedEvents} from '../fixtures/run-events.js';
import {fakeRun} from './fake-run.js';
import {App} from '../../source/app.js';
import {KEYS, paneText, press, realServices, waitForFrame} from './ink-helpers.js';

afterEach(() => cleanup());

const PAGE_UP = '\u001B[5~';
const END = '\u001B[F';
const CTRL_RIGHT_BRACKET = '\u001D';
const REPORT = {text: '/tmp/pt-up/clusters/demo/report.txt', json: '/tmp/pt-up/clusters/demo/report.json'};

function mount(run: ReturnType<typeof fakeRun>, onExit: () => void = () => undefined) {
	return render(<RunApp profile={template()} services={run.services} onExit={onExit} options={{tickMs: 20}} />);
}

test('panes show each node\'s phase, what it waits for, the stall hint and the failure reason', async () => {
	const {lastFrame} = mount(fakeRun(recordedEvents('run-demo-stall')));
	const frame = await waitForFrame(lastFrame, f => f.includes('⚠ no console output'), 'the stall hint');
	const [node01, node02, node03] = ['node01', 'node02', 'node03'].map(name => paneText(lastFrame()!, name));
	assert.match(node01!, /^node01 console \d+s . waiting for ssh on 127\.0\.0\.1:2241: connected to 127\.0\.0\.1:2241 but no SSH banner within 10 s \(\d+s\) │ \[ +\d+\.\d+\] /);
	assert.match(node02!, /^node02 booting \d+s . ⚠ no console output for 60 s: check the kernel \/ initrd \/ accelerator │ \(no console output yet\)$/);
	assert.match(node03!, /^node03 failed \d+s failed: QEMU exited \(code 1\); last lines: Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block\(0,0\) │ \[ +0\.0+\] Linux version .* │ Kernel panic - not syncing/);
	assert.match(frame, /✓ preflight +✓ image +✓ certificates +. boot/);
});

test('a successful run ends on the checklist with every check ok and the report path', async () => {
	const {lastFrame} = mount(fakeRun(recordedEvents('run-demo-ok'), {outcome: {exitCode: 0, report: REPORT}}));
	const frame = await waitForFrame(lastFrame, f => f.includes('report saved'), 'the checklist');
	assert.match(frame, /Checks: 24 ok · 0 failed · 0 waiting, of 24/);
	assert.match(frame, /check +node01 +node02 +node03 +cluster/);
	assert.match(frame, /raft-quorum :2379 +✓ ok/);
	assert.match(frame, /report saved: \/tmp\/pt-up\/clusters\/demo\/report\.txt · \/tmp\/pt-up\/clusters\/demo\/report\.json/);
	assert.match(frame, /done: every stage passed; the cluster keeps running/);
});

test('the checklist names the failed checks with their reason and the node\'s last console line', async () => {
	const {lastFrame} = mount(fakeRun(recordedEvents('run-demo-checks-failed'), {outcome: {exitCode: 1, failedStage: 'validate', report: REPORT}}));
	const frame = await waitForFrame(lastFrame, f => f.includes('report saved'), 'the checklist');
	assert.match(frame, /Checks: 20 ok · 4 failed · 0 waiting, of 24/);
	assert.match(frame, /etcd health +✓ ok +✓ ok +✗ failed/);
	assert.match(frame, /✗ node03 · etcd health: connect ECONNREFUSED 192\.168\.100\.13:2379/);
	assert.match(frame, /last log line: console: etcd: stopped by 'svc stop etcd'/);
	assert.match(frame, /failed at validate \(exit 1\)/);
});

test('the console view shows every node at once; zoom, scrollback and follow', async () => {
	const run = fakeRun(recordedEvents('run-demo-ok').filter(e => e.type !== 'check' && !(e.type === 'stage' && e.stage === 'validate')));
	const {stdin, lastFrame} = mount(run);
	await waitForFrame(lastFrame, f => /node03 +healthy/.test(f), 'the nodes up');
	await press(stdin, 'c');
	let frame = await waitForFrame(lastFrame, f => f.includes('node01 · 52 lines'), 'the console view');
	assert.match(frame, /node02 · 52 lines · following/);
	assert.match(frame, /node03 · 52 lines · following/);
	assert.match(frame, /plasma-ready node01 192\.168\.100\.11/);
	assert.match(frame, /plasma-ready node03 192\.168\.100\.13/);

	// tab moves focus, z zooms the focused node only.
	await press(stdin, KEYS.tab, 'z');
	frame = await waitForFrame(lastFrame, f => !f.includes('node01 · 52 lines'), 'the zoomed console');
	assert.match(frame, /node02 · 52 lines · following/);
	assert.doesNotMatch(frame, /node03 · /);

	// Scroll back a page: the window stays put while new lines arrive, End follows again.
	await press(stdin, PAGE_UP);
	frame = await waitForFrame(lastFrame, f => f.includes('scrolled up'), 'the scrolled console');
	const before = /scrolled up (\d+) lines/.exec(frame)![1];
	for (let i = 0; i < 5; i++) run.state.emit({type: 'console', node: 'node02', line: `later line ${i}`, at: Date.now()});
	frame = await waitForFrame(lastFrame, f => f.includes('57 lines'), 'the new lines counted');
	assert.equal(/scrolled up (\d+) lines/.exec(frame)![1], String(Number(before) + 5));
	assert.doesNotMatch(frame, /later line/);
	await press(stdin, END);
	frame = await waitForFrame(lastFrame, f => f.includes('following'), 'following again');
	assert.match(frame, /later line 4/);

	// Enter (or z) again goes back to all consoles.
	await press(stdin, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('node01 · 52 lines') && f.includes('node03 · 52 lines'), 'all consoles again');
});

test('keys typed into the focused console reach it, and ctrl-] gives the keys back', async () => {
	const run = fakeRun(recordedEvents('run-demo-stall'));
	const {stdin, lastFrame} = mount(run);
	await waitForFrame(lastFrame, f => f.includes('⚠ no console output'), 'the run');
	await press(stdin, 'c');
	await waitForFrame(lastFrame, f => f.includes('node01 · 30 lines'), 'the console view');
	await press(stdin, 'i');
	await waitForFrame(lastFrame, f => f.includes('typing: ctrl-] stops'), 'typing mode');
	await press(stdin, 'q', 'z', 'l', 's', KEYS.enter, '\u0003', KEYS.up);
	assert.deepEqual(run.sent, [
		['node01', 'q'],
		['node01', 'z'],
		['node01', 'l'],
		['node01', 's'],
		['node01', '\r'],
		['node01', '\u0003'],
		['node01', '\u001B[A'],
	]);
	assert.equal(run.state.aborted, false, 'ctrl-c while typing goes to the node, not to the run');
	await press(stdin, CTRL_RIGHT_BRACKET);
	await waitForFrame(lastFrame, f => f.includes('node01 · 30 lines · following'), 'typing mode left');
	await press(stdin, 'q');
	await waitForFrame(lastFrame, f => f.includes('Quit? The run of "demo" is still going.'), 'the quit question');
	assert.equal(run.sent.length, 7);
});

test('a flood of 50k console lines keeps 2000 per node and renders at the tick, not per line', async () => {
	const flood = Array.from({length: 50_000}, (_, i) => ({type: 'console' as const, node: 'node01', line: `flood line ${i}`, at: Date.now()}));
	// 100 chunks over about a second, drawn at the real 100 ms tick.
	const run = fakeRun(flood, {chunk: 500, delayMs: 10});
	const started = Date.now();
	const {stdin, lastFrame, frames} = render(<RunApp profile={template()} services={run.services} onExit={() => undefined} options={{tickMs: 100}} />);
	await press(stdin, 'c');
	const frame = await waitForFrame(lastFrame, f => f.includes('50000 lines, 2000 kept'), 'the whole flood', 10_000);
	const seconds = (Date.now() - started) / 1000;
	assert.match(frame, /flood line 49999/);
	// One frame per tick at most (plus the key press and the clock), never one per line.
	assert.ok(frames.length <= Math.ceil(seconds * 10) + 5, `${frames.length} frames in ${seconds} s for 50,000 lines`);
	await press(stdin, '\u001B[H');
	const oldest = await waitForFrame(lastFrame, f => f.includes('scrolled up'), 'the oldest kept line');
	assert.match(oldest, /flood line 48000 /);
	assert.doesNotMatch(oldest, /flood line 47999 /);
});

test('q asks first, and y stops the nodes this run started before leaving', async () => {
	const run = fakeRun(recordedEvents('run-demo-stall'));
	let exited = false;
	const {stdin, lastFrame} = mount(run, () => (exited = true));
	await waitForFrame(lastFrame, f => f.includes('⚠ no console output'), 'the run');
	await press(stdin, 'q');
	await waitForFrame(lastFrame, f => f.includes('Quitting stops the nodes this run started'), 'the quit question');
	await press(stdin, 'n');
	await waitForFrame(lastFrame, f => !f.includes('Quit?'), 'the question closed');
	assert.equal(run.state.aborted, false);
	await press(stdin, 'q', 'y');
	await waitForFrame(lastFrame, f => f.includes('stopping the nodes this run started'), 'stopping');
	const started = Date.now();
	while (!exited && Date.now() - started < 3000) await new Promise(resolve => setTimeout(resolve, 10));
	assert.ok(run.state.aborted && run.state.finished, 'the run was aborted and had stopped its nodes');
	assert.ok(exited);
});

test('ctrl-c stops the run at once; ? shows the keys; the checklist is a key away', async () => {
	const run = fakeRun(recordedEvents('run-demo-stall'));
	let exited = false;
	const {stdin, lastFrame} = mount(run, () => (exited = true));
	await waitForFrame(lastFrame, f => f.includes('⚠ no console output'), 'the run');
	await press(stdin, '?');
	const help = await waitForFrame(lastFrame, f => f.includes('Keys: run: panes'), 'the help');
	assert.match(help, /c +every serial console at once/);
	await press(stdin, KEYS.escape, 'v');
	await waitForFrame(lastFrame, f => f.includes('Checks: none has run yet'), 'the empty checklist');
	await press(stdin, '\u0003');
	const started = Date.now();
	while (!exited && Date.now() - started < 3000) await new Promise(resolve => setTimeout(resolve, 10));
	assert.ok(run.state.aborted && exited);
});

test('the wizard hands the saved profile to the run after the plan screen, and q there quits the TUI', async () => {
	const services = realServices();
	const run = fakeRun(recordedEvents('run-demo-ok'), {outcome: {exitCode: 0, report: REPORT}});
	let ran: string | undefined;
	let outcome: {saved: boolean} | undefined;
	const {stdin, lastFrame} = render(
		<App
			services={services}
			initialProfile={template()}
			renderRun={(profile, onExit) => {
				ran = profile.name;
				return <RunApp profile={profile} services={run.services} onExit={onExit} options={{tickMs: 20}} />;
			}}
			onExit={result => (outcome = result)}
		/>,
	);
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	await press(stdin, KEYS.up, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Auto-assigned values are dim'), 'the network screen');
	await press(stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Subject alternative names'), 'the certificates screen');
	await press(stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Written'), 'the generated certificates', 10_000);
	await press(stdin, KEYS.down, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('step 5/6: checks'), 'the checks screen');
	// Down past every check of the demo to Next.
	await press(stdin, ...Array(template('demo').checks.length).fill(KEYS.down), KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('step 6/6: plan'), 'the plan screen');
	await press(stdin, KEYS.enter);
	const frame = await waitForFrame(lastFrame, f => f.includes('report saved'), 'the run ending on its checklist');
	// The demo template given as the starting profile is saved under a name of its own.
	assert.equal(ran, 'demo-2');
	assert.deepEqual(services.store.list(), ['demo-2'], 'the profile was saved before the run');
	assert.match(frame, /plasma-tui · profile demo-2 · run/);
	assert.doesNotMatch(frame, /step \d\/6/, 'no wizard frame around the run');
	await press(stdin, 'q');
	await waitForFrame(lastFrame, f => f.includes('keeps running'), 'the quit question');
	await press(stdin, 'y');
	const started = Date.now();
	while (!outcome && Date.now() - started < 3000) await new Promise(resolve => setTimeout(resolve, 10));
	assert.deepEqual(outcome && {saved: outcome.saved}, {saved: true});
});

test('a run that fails before boot says which stage failed and why', async () => {
	const at = Date.now();
	const events = [
		{type: 'stage', stage: 'preflight', status: 'start', at},
		{type: 'log', level: 'error', message: 'kernel: /nonexistent/vmlinuz does not exist or is not readable (fix: check boot.kernel in the profile)', at},
		{type: 'stage', stage: 'preflight', status: 'failed', message: 'kernel: /nonexistent/vmlinuz does not exist or is not readable', at},
	] as const;
	const {lastFrame} = mount(fakeRun([...events], {outcome: {exitCode: 1, failedStage: 'preflight'}}));
	const frame = await waitForFrame(lastFrame, f => f.includes('failed at preflight'), 'the failure');
	assert.match(frame, /✗ preflight: kernel: \/nonexistent\/vmlinuz does not exist or is not readable/);
	assert.match(frame, /error: kernel: \/nonexistent\/vmlinuz does not exist or is not readable \(fix: check boot\.kernel in the profile\)/);
	assert.match(frame, /node01 +pending/);
});

test('an interrupted run says so, not which stage failed', async () => {
	const at = Date.now();
	const {lastFrame} = mount(fakeRun([{type: 'stage', stage: 'boot', status: 'start', at}], {outcome: {exitCode: 130, interrupted: true}}));
	const frame = await waitForFrame(lastFrame, f => f.includes('(exit 130)'), 'the outcome');
	assert.match(frame, /interrupted \(exit 130\)/);
	assert.doesNotMatch(frame, /failed at/);
});

test('sixteen nodes fit the terminal: one line per node in the panes, the consoles paged around the focus', async () => {
	const profile = template();
	profile.nodes = Array.from({length: 16}, (_, i) => ({...profile.nodes[0]!, name: `node${String(i + 1).padStart(2, '0')}`}));
	const run = fakeRun(recordedEvents('run-demo-stall'));
	const {stdin, lastFrame} = render(<RunApp profile={profile} services={run.services} onExit={() => undefined} options={{tickMs: 20}} />);
	let frame = await waitForFrame(lastFrame, f => f.includes('⚠ no console output'), 'the panes');
	assert.match(frame, /node16 +pending/);
	assert.ok(lastFrame()!.split('\n').length <= 29, 'the frame stays below the terminal height');
	await press(stdin, 'c');
	frame = await waitForFrame(lastFrame, f => f.includes('of 16'), 'the paged consoles');
	assert.match(frame, /consoles 1-\d+ of 16/);
	assert.ok(lastFrame()!.split('\n').length <= 29, 'the console view stays below the terminal height');
	await press(stdin, ...Array(15).fill(KEYS.tab));
	frame = await waitForFrame(lastFrame, f => f.includes('node16 · 0 lines'), 'the last console');
	assert.match(frame, /consoles \d+-16 of 16/);
});

test('keys sent in one burst (tmux send-keys, a paste) act one at a time', async () => {
	const run = fakeRun(recordedEvents('run-demo-stall'));
	const {stdin, lastFrame} = mount(run);
	await waitForFrame(lastFrame, f => f.includes('⚠ no console output'), 'the run');
	await press(stdin, 'c');
	await waitForFrame(lastFrame, f => f.includes('node01 · 30 lines'), 'the console view');
	await press(stdin, '\tz');
	const frame = await waitForFrame(lastFrame, f => !f.includes('node01 · 30 lines'), 'node02 zoomed');
	assert.match(frame, /node02 · 0 lines · following/);
	assert.doesNotMatch(frame, /node03 · /);
	await press(stdin, 'ils\r\u001D');
	assert.deepEqual(run.sent, [
		['node02', 'l'],
		['node02', 's'],
		['node02', '\r'],
	]);
	await waitForFrame(lastFrame, f => f.includes('node02 · 0 lines · following'), 'typing mode left');
});

test('while validating, each pane counts its checks and names the one it waits for', async () => {
	const events = recordedEvents('run-demo-ok');
	const upTo = events.findIndex(e => e.type === 'check' && e.check === 'etcd health' && e.node === 'node01');
	const waiting = {type: 'check' as const, node: 'node01', check: 'etcd health', status: 'waiting' as const, detail: 'waiting for etcd health: connect ECONNREFUSED 192.168.100.11:2379', at: Date.now()};
	const {lastFrame} = mount(fakeRun([...events.slice(0, upTo + 1), waiting]));
	await waitForFrame(lastFrame, f => f.includes('ECONNREFUSED'), 'the waiting check');
	assert.match(paneText(lastFrame()!, 'node01'), /^node01 validating \d+s . checks: 4 ok · waiting for etcd health: connect ECONNREFUSED 192\.168\.100\.11:2379 │/);
	assert.match(paneText(lastFrame()!, 'node02'), /checks: 4 ok │/);
});

test('checks not run on a failed node show as not run, counted, with the node\'s reason once', async () => {
	// Issue 10, point 2: on main before this, a node that failed before validation had no cells at all
	// (validation was skipped) and the checklist had no way to say "not run".
	const reason = 'node03 did not finish: install.push.commands[1] exited 1: disk full';
	const events = recordedEvents('run-demo-checks-failed').map(event =>
		event.type === 'check' && event.node === 'node03' && event.status !== 'waiting' ? {...event, status: 'not-run' as const, detail: reason, logLine: undefined} : event,
	);
	const {lastFrame} = mount(fakeRun(events, {outcome: {exitCode: 1, failedStage: 'install', report: REPORT}}));
	const frame = await waitForFrame(lastFrame, f => f.includes('report saved'), 'the checklist');
	assert.match(frame, /Checks: \d+ ok · \d+ failed · 0 waiting · \d+ not run, of 24/);
	assert.match(frame, /etcd health +✓ ok +✓ ok +– not run/);
	assert.match(frame, /– node03: \d+ checks not run: node03 did not finish: install\.push\.commands\[1\] exited 1: disk full/);
});
