import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {render, cleanup} from 'ink-testing-library';
import {App} from '../../source/app.js';
import {template} from '../helpers.js';
import {LONG} from '../hostile.js';
import {KEYS, press, realServices, type, waitForFrame} from './ink-helpers.js';

// Hostile text typed or pasted into the wizard: the screen keeps running and
// shows the field's error inline; nothing is taken as a command.

afterEach(() => cleanup());

const SHELL = '$(reboot)`id`;|&<>\'"\\';
const UNICODE = 'é🦀مرحبا\u202eexe';

async function toNetwork(stdin: {write: (d: string) => void}, lastFrame: () => string | undefined) {
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	await press(stdin, KEYS.up, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Auto-assigned values are dim'), 'the network screen');
}

// Types into the focused field of the topology form: enter, clear, text (typed or pasted), enter.
async function fill(stdin: {write: (d: string) => void}, text: string, paste = false) {
	await press(stdin, KEYS.enter, KEYS.ctrlU);
	if (paste) await press(stdin, text);
	else await type(stdin, text);
	await press(stdin, KEYS.enter);
}

test('topology: shell syntax, unicode and control characters in names end in inline errors', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={template()} />);
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	// The profile name comes first: it names the work directory.
	await fill(stdin, SHELL);
	let frame = await waitForFrame(lastFrame, f => f.includes('✗ name:'), 'the profile name error');
	assert.match(frame, /✗ name: ".*" is not a valid profile name/);
	await press(stdin, KEYS.down);
	await fill(stdin, SHELL);
	frame = await waitForFrame(lastFrame, f => f.includes('✗ cluster.name'), 'the cluster name error');
	assert.match(frame, /cluster name ".*" is not an RFC 1123 label/);
	await press(stdin, KEYS.down);
	// A paste with escape sequences, a NUL and a bell: control characters never reach the value.
	await fill(stdin, `dom\u0000ain\u0007\u001b[2J${UNICODE}`, true);
	frame = await waitForFrame(lastFrame, f => f.includes('✗ cluster.domain'), 'the domain error');
	// The NUL and the bell are dropped; what is left of the escape sequence is plain text, the RTL override is shown escaped.
	assert.match(frame, /domain "domain.*é🦀مرحبا\\u202eexe" is not an RFC 1123 label/);
	// (The field itself still shows the RTL override raw: the form components print values as typed.)
	assert.doesNotMatch(lastFrame()!, /\u0000|\u0007|\u001b\[2J/);
	await press(stdin, KEYS.down);
	await fill(stdin, '3; rm -rf /');
	await waitForFrame(lastFrame, f => f.includes('node count must be a number from 1 to 16'), 'the node count error');
	await press(stdin, KEYS.down);
	await fill(stdin, `node01${SHELL}`, true);
	frame = await waitForFrame(lastFrame, f => f.includes('✗ nodes[0].name'), 'the node name error');
	assert.match(frame, /nodes\[0\]\.name: "node01\$\(reboot\)`id`;\|&<>'"\\" is not a valid node name/);
	// Next (up from the first field wraps to it) is refused while any of them stands.
	await press(stdin, KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Fix the errors marked ✗ before going on.'), 'the refusal');
});

test('network: hostile subnet, IP, MAC, hostname and SSH port end in inline errors', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={template()} />);
	await toNetwork(stdin, lastFrame);
	await press(stdin, KEYS.enter, KEYS.ctrlU);
	await type(stdin, `10.0.0.0/8${SHELL}`);
	await press(stdin, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('✗ network.subnet'), 'the subnet error');
	// Back to a good subnet, then each cell of node01.
	await press(stdin, KEYS.enter, KEYS.ctrlU);
	await type(stdin, '192.168.100.0/24');
	await press(stdin, KEYS.enter, KEYS.down);
	const cells: Array<[string, string, RegExp]> = [
		['ip', `192.168.100.11$(id)`, /✗ nodes\[0\]\.ip: "192\.168\.100\.11\$\(id\)" is not an IPv4 address/],
		['mac', `52:54:00:00:01:01\`id\``, /✗ nodes\[0\]\.mac: "52:54:00:00:01:01`id`" is not a MAC address/],
		['hostname', UNICODE, /✗ nodes\[0\]\.hostname: hostname "é🦀مرحبا\\u202eexe" is not an RFC 1123 label/],
	];
	for (const [cell, text, expected] of cells) {
		await press(stdin, KEYS.enter, KEYS.ctrlU);
		await press(stdin, text);
		await press(stdin, KEYS.enter);
		const frame = await waitForFrame(lastFrame, f => expected.test(f), `the ${cell} error`);
		assert.match(frame, expected);
		await press(stdin, KEYS.ctrlU, KEYS.right);
	}
	// The SSH port column takes digits only: the edit itself says so.
	await press(stdin, KEYS.enter, KEYS.ctrlU);
	await type(stdin, '2222;reboot');
	await press(stdin, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('✗ nodes[0].sshPort: "2222;reboot" is not a number'), 'the port error');
});

test('network: a 2,000-character paste into a cell ends in the length error', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={template()} />);
	await toNetwork(stdin, lastFrame);
	await press(stdin, KEYS.down, KEYS.right, KEYS.right, KEYS.enter, KEYS.ctrlU);
	await press(stdin, LONG.slice(0, 2000));
	await press(stdin, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('✗ nodes[0].hostname: hostname is longer than 253 characters'), 'the length error', 10_000);
});

// A cell keeps at most MAX_FIELD_CHARS: without the cap a 100k paste took minutes to settle.
test('network: a 100k-character paste into a cell does not freeze the screen', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={template()} />);
	await toNetwork(stdin, lastFrame);
	await press(stdin, KEYS.down, KEYS.right, KEYS.right, KEYS.enter, KEYS.ctrlU);
	const started = Date.now();
	await press(stdin, LONG);
	await press(stdin, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('✗ nodes[0].hostname'), 'the length error', 10_000);
	assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});

test('a corrupt saved-profiles file is shown with its path on the profile screen and kept', async () => {
	const services = realServices();
	fs.mkdirSync(services.store.configDir, {recursive: true});
	fs.writeFileSync(services.store.file, '{"profiles": {"lab": {"name": ');
	const {lastFrame} = render(<App services={services} />);
	const frame = await waitForFrame(lastFrame, f => f.includes('is not valid JSON'), 'the store error');
	assert.ok(frame.replaceAll(' ', '').includes(path.join(services.store.configDir, 'profiles.json')), frame);
	assert.equal(fs.readFileSync(services.store.file, 'utf8'), '{"profiles": {"lab": {"name": ');
});
