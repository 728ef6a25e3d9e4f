import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {render, cleanup} from 'ink-testing-library';
import {App} from '../../source/app.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {template} from '../helpers.js';
import {KEYS, press, realServices, type, waitForFrame} from './ink-helpers.js';

afterEach(() => cleanup());

// plasmacloud-3node's checks: ssh, l2-mesh, hosts-resolve, three units, chainfire quorum,
// chainfire / flaredb / iam health, chainfire crud, metrics, tls. Next is row 13.
const FLAREDB_HEALTH = 8;
const NEXT = 13;

type Stdin = {write: (d: string) => void};
type LastFrame = () => string | undefined;

async function toChecks(stdin: Stdin, lastFrame: LastFrame) {
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	await press(stdin, KEYS.up, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Auto-assigned values are dim'), 'the network screen');
	await press(stdin, ...Array(4).fill(KEYS.down), KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Subject alternative names'), 'the certificates screen');
	await press(stdin, ...Array(5).fill(KEYS.down), KEYS.enter);
	return waitForFrame(lastFrame, f => f.includes('step 5/6: checks'), 'the checks screen');
}

// The draft is written shortly after a change (or when the screen changes): wait for it, do not race it.
async function draftChecks(services: ReturnType<typeof realServices>, check: (checks: Profile['checks']) => boolean): Promise<Profile['checks']> {
	const started = Date.now();
	for (;;) {
		const checks = services.store.loadDraft()?.profile.checks;
		if (checks && check(checks)) return checks;
		if (Date.now() - started > 3000) assert.fail(`the draft did not get the edit; it has ${JSON.stringify(checks)}`);
		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

// On the focused row: enter, clear, type, enter.
async function typeCell(stdin: Stdin, text: string) {
	await press(stdin, KEYS.enter, KEYS.ctrlU);
	await type(stdin, text);
	await press(stdin, KEYS.enter);
}

test('the plasmacloud checks are listed with type, port and timeout; a new flaredb health port reaches the draft and the plan', async () => {
	const services = realServices();
	const {stdin, lastFrame} = render(<App services={services} initialProfile={template('plasmacloud-3node')} />);
	let frame = await toChecks(stdin, lastFrame);
	assert.match(frame, /flaredb health +http +2479 +120 /);
	assert.match(frame, /flaredb unit +systemd-unit +- +300 /);
	assert.match(frame, /chainfire quorum +raft-quorum +2379 +300 /);
	await press(stdin, ...Array(FLAREDB_HEALTH).fill(KEYS.down));
	await typeCell(stdin, '2579');
	frame = await waitForFrame(lastFrame, f => /flaredb health +http +2579 /.test(f), 'the new port');
	assert.doesNotMatch(frame, /✗/);
	await press(stdin, ...Array(NEXT - FLAREDB_HEALTH).fill(KEYS.down), KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('step 6/6: plan'), 'the plan screen');
	// The checks section follows the nodes; scroll until it is in view.
	await press(stdin, ...Array(8).fill(KEYS.down));
	frame = await waitForFrame(lastFrame, f => f.includes('checks (validate stage):'), 'the checks in the plan');
	assert.match(frame, /flaredb health +http +port 2579 +timeout 120 s/);
	assert.match(frame, /chainfire health +http +port 2379 +timeout 120 s/);
	// Saved as you go: the draft on disk has the new port (leaving a screen flushes it).
	const saved = await draftChecks(services, checks => checks[FLAREDB_HEALTH]?.name === 'flaredb health' && 'port' in checks[FLAREDB_HEALTH] && checks[FLAREDB_HEALTH].port === 2579);
	assert.equal(saved.length, 13);
});

test('a bad port (0, 70000, text) shows the field error and Next is refused until it is fixed', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={template('plasmacloud-3node')} />);
	await toChecks(stdin, lastFrame);
	await press(stdin, ...Array(FLAREDB_HEALTH).fill(KEYS.down));
	const cases: Array<[string, RegExp]> = [
		['0', /✗ checks\[8\]\.port: 0 is not a TCP port \(fix: use a port from 1 to 65535\)/],
		['70000', /✗ checks\[8\]\.port: 70000 is not a TCP port \(fix: use a port from 1 to 65535\)/],
		['http', /✗ checks\[8\]\.port: "http" is not a TCP port \(fix: use a port from 1 to 65535\)/],
	];
	for (const [typed, error] of cases) {
		await typeCell(stdin, typed);
		const frame = await waitForFrame(lastFrame, f => error.test(f), `the error for ${typed}`);
		assert.match(frame, new RegExp(`flaredb health +http +${typed} `));
		await press(stdin, ...Array(NEXT - FLAREDB_HEALTH).fill(KEYS.down), KEYS.enter);
		await waitForFrame(lastFrame, f => f.includes('Fix the errors marked ✗ before going on.'), `the refusal with ${typed}`);
		assert.ok(lastFrame()!.includes('step 5/6: checks'), 'still on the checks screen');
		await press(stdin, ...Array(NEXT - FLAREDB_HEALTH).fill(KEYS.up));
	}
	// A port again: the error goes and Next leads to the plan.
	await typeCell(stdin, '2480');
	await waitForFrame(lastFrame, f => /flaredb health +http +2480 /.test(f) && !f.includes('✗'), 'the error to clear');
	await press(stdin, ...Array(NEXT - FLAREDB_HEALTH).fill(KEYS.down), KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('step 6/6: plan'), 'the plan screen');
});

test('a check without a port edits its timeout; 0 s is refused, esc restores the old value', async () => {
	const services = realServices();
	const {stdin, lastFrame} = render(<App services={services} initialProfile={template('plasmacloud-3node')} />);
	await toChecks(stdin, lastFrame);
	// Row 0 is the ssh check: enter on the port column edits the timeout.
	await typeCell(stdin, '0');
	let frame = await waitForFrame(lastFrame, f => f.includes('✗ checks[0].timeoutSec'), 'the timeout error');
	assert.match(frame, /checks\[0\]\.timeoutSec: 0 s is not a usable timeout \(fix: set timeoutSec to 1 or more\)/);
	await typeCell(stdin, '45');
	frame = await waitForFrame(lastFrame, f => /ssh +ssh +- +45 /.test(f) && !f.includes('✗'), 'the new timeout');
	// Esc in the middle of an edit puts the value back as it was.
	await press(stdin, KEYS.enter, KEYS.ctrlU);
	await type(stdin, 'x');
	await waitForFrame(lastFrame, f => f.includes('✗ checks[0].timeoutSec: "x" is not a number of seconds'), 'the text error');
	await press(stdin, KEYS.escape);
	frame = await waitForFrame(lastFrame, f => /ssh +ssh +- +45 /.test(f) && !f.includes('✗'), 'the restored timeout');
	// Timeout of a check with a port: right moves to the second column.
	await press(stdin, ...Array(FLAREDB_HEALTH).fill(KEYS.down), KEYS.right);
	await typeCell(stdin, '30');
	await waitForFrame(lastFrame, f => /flaredb health +http +2479 +30 /.test(f), 'the flaredb timeout');
	await press(stdin, KEYS.escape);
	await waitForFrame(lastFrame, f => f.includes('Subject alternative names'), 'back on the certificates screen');
	await draftChecks(services, checks => checks[0]?.timeoutSec === 45 && checks[FLAREDB_HEALTH]?.timeoutSec === 30);
});

test('30 checks fit a 30-row terminal: the table scrolls with the cursor', async () => {
	const profile = template('demo');
	profile.checks = Array.from({length: 30}, (_, i) => ({type: 'tcp-port' as const, name: `port check ${i + 1}`, port: 3000 + i, timeoutSec: 10}));
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={profile} />);
	let frame = await toChecks(stdin, lastFrame);
	assert.match(frame, /more checks below/);
	assert.ok(lastFrame()!.split('\n').length <= 29, 'the frame stays below the terminal height');
	await press(stdin, ...Array(29).fill(KEYS.down));
	frame = await waitForFrame(lastFrame, f => f.includes('port check 30'), 'the last check in view');
	assert.match(frame, /more checks above/);
	assert.match(frame, /Next: plan/);
	assert.ok(lastFrame()!.split('\n').length <= 29, 'the frame stays below the terminal height');
});
