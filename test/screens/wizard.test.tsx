import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {render, cleanup} from 'ink-testing-library';
import {App} from '../../source/app.js';
import {template} from '../helpers.js';
import {flat, KEYS, press, realServices, type, waitForFrame} from './ink-helpers.js';

afterEach(() => cleanup());

async function toNetwork(stdin: {write: (d: string) => void}, lastFrame: () => string | undefined) {
	await waitForFrame(lastFrame, f => f.includes('Template: demo'), 'the profile screen');
	await press(stdin, KEYS.down, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	await press(stdin, KEYS.up, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Auto-assigned values are dim'), 'the network screen');
}

test('a bad IP typed into the network table shows its error with the field and the fix', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} />);
	await toNetwork(stdin, lastFrame);
	await press(stdin, KEYS.down, KEYS.enter, KEYS.ctrlU);
	await type(stdin, '10.0.0.5');
	await press(stdin, KEYS.enter);
	const frame = await waitForFrame(lastFrame, f => f.includes('✗ nodes[0].ip'), 'the IP error');
	assert.match(frame, /✗ nodes\[0\]\.ip: 10\.0\.0\.5 is outside the subnet 192\.168\.100\.0\/24 \(fix: choose an address in 192\.168\.100\.1-192\.168\.100\.254/);
	// Next is refused while the error stands.
	await press(stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Fix the errors marked ✗ before going on.'), 'the refusal');
	// Clearing the cell returns it to auto and the error goes away.
	await press(stdin, KEYS.up, KEYS.up, KEYS.up, KEYS.ctrlU);
	const fixed = await waitForFrame(lastFrame, f => !f.includes('✗'), 'the error to clear');
	assert.match(fixed, /node01 +192\.168\.100\.11 /);
});

test('enter, ctrl-u, a subnet and enter sent in one burst edit the subnet as if typed one by one', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} />);
	await toNetwork(stdin, lastFrame);
	// One write, as a paste or tmux send-keys delivers it.
	await press(stdin, `${KEYS.enter}${KEYS.ctrlU}10.77.0.0/24${KEYS.enter}`);
	const frame = await waitForFrame(lastFrame, f => /Subnet +10\.77\.0\.0\/24/.test(f), 'the new subnet');
	assert.doesNotMatch(frame, /editing: enter keeps/);
	// Committed: the nodes are auto-assigned from the new subnet.
	assert.match(frame, /node01 +10\.77\.0\.11 /);
});

test('the profile screen reads the templates once, not on every render or keystroke of a new name', async () => {
	const services = realServices();
	const reads = {list: 0, load: 0};
	const counted = {
		...services,
		listTemplates: () => (reads.list++, services.listTemplates()),
		loadTemplate: (name: string) => (reads.load++, services.loadTemplate(name)),
	};
	const {stdin, lastFrame} = render(<App services={counted} />);
	await waitForFrame(lastFrame, f => f.includes('Template: demo'), 'the profile screen');
	await press(stdin, KEYS.enter);
	await type(stdin, 'Bad');
	await waitForFrame(lastFrame, f => f.includes('✗ name: "Bad" is not a valid profile name'), 'the name problem');
	await press(stdin, KEYS.backspace, KEYS.backspace, KEYS.backspace);
	await type(stdin, 'lab');
	await press(stdin, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Topology') && f.includes('profile lab'), 'the new profile');
	assert.deepEqual(reads, {list: 1, load: 1});
});

test('duplicate SSH ports are flagged on the second node', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} />);
	await toNetwork(stdin, lastFrame);
	// Auto-assigned ports step around an override, so the duplicate needs two overrides.
	await press(stdin, KEYS.down, KEYS.right, KEYS.right, KEYS.right, KEYS.enter, KEYS.ctrlU);
	await type(stdin, '2300');
	await press(stdin, KEYS.enter, KEYS.down, KEYS.enter, KEYS.ctrlU);
	await type(stdin, '2300');
	await press(stdin, KEYS.enter);
	const frame = await waitForFrame(lastFrame, f => f.includes('✗ nodes[1].sshPort'), 'the duplicate port error');
	assert.match(frame, /duplicate SSH port 2300: node01 has it already/);
});

test('topology -> network -> certificates -> checks -> plan completes with real certificates and a full plan', async () => {
	const services = realServices();
	const {stdin, lastFrame} = render(<App services={services} />);
	await toNetwork(stdin, lastFrame);
	await press(stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Subject alternative names'), 'the certificates screen');
	let frame = flat(lastFrame()!);
	assert.match(frame, /node02 +DNS node02, node02\.demo\.internal, localhost +IP 192\.168\.100\.12, 127\.0\.0\.1/);
	await press(stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
	frame = await waitForFrame(lastFrame, f => f.includes('Written'), 'the generated certificates', 10_000);
	assert.match(frame, /node03 +ECDSA P-256 +expires \d{4}-\d\d-\d\d +([0-9A-F]{2}:){9}[0-9A-F]{2}…  new/);
	// A profile started from the demo template is named demo-2, and so is its work directory.
	assert.ok(existsSync(path.join(services.home, 'clusters', 'demo-2', 'nodes', 'node03', 'secrets', 'node03.key')));
	await press(stdin, KEYS.down, KEYS.enter);
	frame = await waitForFrame(lastFrame, f => f.includes('step 5/6: checks'), 'the checks screen');
	assert.match(frame, /etcd health +http +2379 +60 /);
	assert.match(frame, /l2-mesh +l2-mesh +- +30 /);
	// Down past every check of the demo to Next.
	await press(stdin, ...Array(template('demo').checks.length).fill(KEYS.down), KEYS.enter);
	frame = await waitForFrame(lastFrame, f => f.includes('step 6/6: plan'), 'the plan screen');
	assert.match(frame, /stages: preflight -> image -> certificates -> boot -> install -> validate/);
	assert.match(frame, /node01 +control-plane 192\.168\.100\.11/);
	// The QEMU arguments are further down: scroll to the end.
	await press(stdin, '\u001B[F');
	frame = await waitForFrame(lastFrame, f => f.includes('-fw_cfg'), 'the QEMU arguments');
	// Wrapped continuation lines are indented by four spaces.
	assert.match(lastFrame()!.replace(/\n {4}/g, ''), /-fw_cfg name=opt\/plasma\/ssh_host_ed25519_key,file=\S+node03\/ssh_host_ed25519_key/);
	await press(stdin, 's');
	await waitForFrame(lastFrame, f => f.includes('saved profile "demo-2"'), 'the save notice');
	assert.deepEqual(services.store.list(), ['demo-2']);
});

test('? opens the help for the screen and esc closes it', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={template()} />);
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	await press(stdin, '?');
	const help = await waitForFrame(lastFrame, f => f.includes('Keys: topology'), 'the help overlay');
	assert.match(help, /q +quit \(asks first when something is unsaved\)/);
	await press(stdin, KEYS.escape);
	await waitForFrame(lastFrame, f => !f.includes('Keys: topology') && f.includes('Cluster name'), 'the help to close');
});

test('q and ? typed into a text field are text, not commands', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={template()} />);
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	// The cluster name, below the profile name.
	await press(stdin, KEYS.down, KEYS.enter, KEYS.ctrlU);
	await type(stdin, 'q?x');
	const frame = await waitForFrame(lastFrame, f => f.includes('q?x'), 'the typed text');
	assert.doesNotMatch(frame, /Keys: topology|Quit\?/);
	assert.match(frame, /cluster\.name: cluster name "q\?x" is not an RFC 1123 label/);
});

test('ctrl-c asks before quitting with unsaved changes, even inside a text field', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={template()} />);
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	await press(stdin, KEYS.enter, KEYS.ctrlU);
	await type(stdin, 'edited');
	await waitForFrame(lastFrame, f => f.includes('edited'), 'the typed text');
	await press(stdin, '\u0003');
	const frame = await waitForFrame(lastFrame, f => f.includes('Quit?'), 'the quit question');
	assert.match(frame, /has unsaved changes/);
	await press(stdin, KEYS.escape);
	await waitForFrame(lastFrame, f => !f.includes('Quit?'), 'the question to close');
});

test('q with unsaved changes asks first; the draft survives and is offered on the next start', async () => {
	const services = realServices();
	const first = render(<App services={services} />);
	await toNetwork(first.stdin, first.lastFrame);
	await press(first.stdin, KEYS.down, KEYS.right, KEYS.right, KEYS.enter);
	await type(first.stdin, 'x');
	await press(first.stdin, KEYS.enter);
	await waitForFrame(first.lastFrame, f => f.includes('node01x'), 'the edited hostname');
	await press(first.stdin, 'q');
	await waitForFrame(first.lastFrame, f => f.includes('Quit? "demo-2" has unsaved changes.'), 'the quit question');
	await press(first.stdin, 'n');
	await waitForFrame(first.lastFrame, f => !f.includes('Quit?'), 'the question to close');
	await press(first.stdin, 'q', 'y');
	first.unmount();

	const second = render(<App services={services} />);
	const frame = await waitForFrame(second.lastFrame, f => f.includes('Resume draft'), 'the resume offer');
	assert.match(frame, /Resume draft "demo-2" \(network, saved \d{4}-\d\d-\d\d \d\d:\d\d\)/);
	await press(second.stdin, KEYS.enter);
	const resumed = await waitForFrame(second.lastFrame, f => f.includes('Auto-assigned values are dim'), 'the resumed network screen');
	assert.match(resumed, /node01x/);
});

test('the node count keeps the overrides of the nodes that remain', async () => {
	const profile = template();
	profile.nodes[1]!.ip = '192.168.100.77';
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={profile} />);
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	await press(stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.enter, KEYS.ctrlU, '5', KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Node 5 name'), 'five nodes');
	await press(stdin, KEYS.enter, KEYS.ctrlU, '2', KEYS.enter);
	await waitForFrame(lastFrame, f => !f.includes('Node 3 name'), 'two nodes');
	await press(stdin, ...Array(5).fill(KEYS.down), KEYS.enter);
	const frame = await waitForFrame(lastFrame, f => f.includes('Auto-assigned values are dim'), 'the network screen');
	assert.match(frame, /node02 +192\.168\.100\.77/);
	assert.doesNotMatch(frame, /node03/);
});

test('16 nodes fit a 30-row terminal: the lists scroll with the cursor on every screen', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} initialProfile={template()} />);
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	await press(stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.enter, KEYS.ctrlU, '1', '6', KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('more below'), 'the scrolled topology list');
	// Up from the first field wraps to Next, the last of 36 fields: it must come into view.
	await press(stdin, KEYS.up, KEYS.up, KEYS.up, KEYS.up);
	let frame = await waitForFrame(lastFrame, f => f.includes('Next: network'), 'the Next action in view');
	assert.match(frame, /Node 16 role/);
	assert.match(frame, /more above/);
	assert.ok((lastFrame() ?? '').split('\n').length <= 29, 'the frame stays below the terminal height');
	await press(stdin, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Auto-assigned values are dim'), 'the network screen');
	await press(stdin, ...Array(17).fill(KEYS.down));
	frame = await waitForFrame(lastFrame, f => f.includes('Next: certificates'), 'the Next action in view');
	assert.match(frame, /node16 +192\.168\.100\.\d+/);
	assert.ok((lastFrame() ?? '').split('\n').length <= 29, 'the frame stays below the terminal height');
	await press(stdin, KEYS.enter);
	frame = await waitForFrame(lastFrame, f => f.includes('Subject alternative names'), 'the certificates screen');
	assert.match(frame, /Next: checks/);
	assert.match(frame, /more nodes/);
	assert.ok((lastFrame() ?? '').split('\n').length <= 29, 'the frame stays below the terminal height');
});

test('a saved profile with a misspelt key shows the key and its suggestion in the notice', async () => {
	const services = realServices();
	const {install, ...rest} = template();
	mkdirSync(services.store.configDir, {recursive: true});
	writeFileSync(services.store.file, JSON.stringify({profiles: {lab: {...rest, name: 'lab', instal: install}}}));
	const {stdin, lastFrame} = render(<App services={services} />);
	await waitForFrame(lastFrame, f => f.includes('Saved: lab'), 'the saved profile');
	await press(stdin, KEYS.up, KEYS.enter);
	const frame = await waitForFrame(lastFrame, f => f.includes('unknown key'), 'the notice');
	assert.match(frame, /instal: unknown key "instal" \(did you mean "install"\?\)/);
	assert.match(frame, /saved profile "lab" in \S+ has the problems above/);
	assert.doesNotMatch(frame, /Topology/);
});

test('a draft with a misspelt key is reported on the profile screen, not offered or dropped silently', async () => {
	const services = realServices();
	const profile = template();
	mkdirSync(services.store.configDir, {recursive: true});
	writeFileSync(services.store.draftFile, JSON.stringify({draft: {profile: {...profile, network: {...profile.network, sshPortBAse: 2300}}, screen: 'network', savedAt: '2026-01-01T00:00:00.000Z'}}));
	const {lastFrame} = render(<App services={services} />);
	const frame = await waitForFrame(lastFrame, f => f.includes('cannot be resumed'), 'the draft problem');
	assert.match(frame, /network\.sshPortBAse: unknown key "sshPortBAse" \(did you mean "sshPortBase"\?\)/);
	assert.doesNotMatch(frame, /Resume draft/);
});

test('a draft that cannot be resumed does not hide the saved profiles', async () => {
	const services = realServices();
	const profile = template();
	services.store.save({...profile, name: 'lab'});
	writeFileSync(services.store.draftFile, JSON.stringify({draft: {profile: {...profile, instal: {}}, screen: 'network', savedAt: '2026-01-01T00:00:00.000Z'}}));
	const {lastFrame} = render(<App services={services} />);
	const frame = await waitForFrame(lastFrame, f => f.includes('cannot be resumed'), 'the draft problem');
	assert.match(frame, /Saved: lab/);
});

// Issue 10, point 3: on main before this, a profile started from the demo template kept the name
// "demo", and saving it made a saved profile that silently shadowed the template for --profile demo.
test('a template starts a profile under a new name: demo-2, or the first free one after saved profiles', async () => {
	const first = render(<App services={realServices()} />);
	await waitForFrame(first.lastFrame, f => f.includes('Template: demo'), 'the profile screen');
	await press(first.stdin, KEYS.down, KEYS.enter);
	let frame = await waitForFrame(first.lastFrame, f => f.includes('Topology'), 'the topology screen');
	assert.match(frame, /profile demo-2 /);
	assert.match(frame, /› Profile name +demo-2 +from the template demo, under a name of its own/);
	first.unmount();

	const services = realServices();
	services.store.save({...template(), name: 'demo-2'});
	const second = render(<App services={services} />);
	await waitForFrame(second.lastFrame, f => f.includes('Saved: demo-2'), 'the profile screen');
	await press(second.stdin, KEYS.down, KEYS.enter);
	frame = await waitForFrame(second.lastFrame, f => f.includes('Topology'), 'the topology screen');
	assert.match(frame, /Profile name +demo-3 /);
	// The name is editable where it is shown.
	await press(second.stdin, KEYS.enter, KEYS.ctrlU);
	await type(second.stdin, 'lab');
	await press(second.stdin, KEYS.enter);
	frame = await waitForFrame(second.lastFrame, f => f.includes('profile lab '), 'the new name in the header');
	assert.match(frame, /Profile name +lab /);
});

test('saving over an existing saved profile asks first: n keeps the old one, y replaces it', async () => {
	const services = realServices();
	services.store.save({...template(), name: 'lab', description: 'the old lab'});
	const {stdin, lastFrame} = render(<App services={services} />);
	await waitForFrame(lastFrame, f => f.includes('Saved: lab'), 'the profile screen');
	await press(stdin, KEYS.enter);
	await type(stdin, 'lab');
	await press(stdin, KEYS.enter);
	let frame = await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
	assert.match(frame, /Profile name +lab +a saved profile has this name: saving asks before replacing it/);
	await press(stdin, KEYS.up, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Auto-assigned values are dim'), 'the network screen');
	await press(stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Subject alternative names'), 'the certificates screen');
	await press(stdin, KEYS.up, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('step 5/6: checks'), 'the checks screen');
	await press(stdin, ...Array(template('demo').checks.length).fill(KEYS.down), KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('step 6/6: plan'), 'the plan screen');
	await press(stdin, 's');
	frame = await waitForFrame(lastFrame, f => f.includes('Replace the saved profile "lab"?'), 'the replace question');
	assert.match(frame, /y: replace it +n or esc: keep editing/);
	await press(stdin, 'n');
	frame = await waitForFrame(lastFrame, f => f.includes('not saved'), 'the answer taken');
	const kept = services.store.load('lab');
	assert.ok(kept.ok && kept.profile.description === 'the old lab', 'n leaves the saved profile as it was');
	// Keys go to the plan again after the question closes; enter (save and run) asks as well.
	await press(stdin, 's');
	await waitForFrame(lastFrame, f => f.includes('Replace the saved profile "lab"?'), 'the question again');
	await press(stdin, 'y');
	await waitForFrame(lastFrame, f => f.includes('saved profile "lab"'), 'the save notice');
	const replaced = services.store.load('lab');
	assert.ok(replaced.ok && replaced.profile.description === '', 'y replaces it with the new profile');
	// Once saved, the profile is the saved one: saving again does not ask.
	await press(stdin, 's');
	await new Promise(resolve => setTimeout(resolve, 100));
	assert.doesNotMatch(flat(lastFrame()!), /Replace the saved profile/);
});

test('saving under a template\'s name asks first: the saved profile would shadow the template', async () => {
	const services = realServices();
	const {stdin, lastFrame} = render(<App services={services} />);
	await waitForFrame(lastFrame, f => f.includes('Template: demo'), 'the profile screen');
	await press(stdin, KEYS.down, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Profile name'), 'the topology screen');
	await press(stdin, KEYS.enter, KEYS.ctrlU);
	await type(stdin, 'demo');
	await press(stdin, KEYS.enter, 'q');
	await waitForFrame(lastFrame, f => f.includes('Quit? "demo" has unsaved changes.'), 'the quit question');
	await press(stdin, 's');
	const frame = await waitForFrame(lastFrame, f => f.includes('Save as "demo"?'), 'the shadow question');
	assert.match(frame, /--profile demo would then use the saved profile, not the template/);
	await press(stdin, KEYS.escape);
	await waitForFrame(lastFrame, f => f.includes('not saved') && f.includes('Profile name'), 'back on the topology screen');
	assert.deepEqual(services.store.list(), []);
});
