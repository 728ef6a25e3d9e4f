import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {render, cleanup} from 'ink-testing-library';
import {App} from '../../source/app.js';
import {KEYS, press, realServices, type, waitForFrame} from './ink-helpers.js';

afterEach(() => cleanup());

async function toTopology(stdin: {write: (d: string) => void}, lastFrame: () => string | undefined) {
	await waitForFrame(lastFrame, f => f.includes('Template: demo'), 'the profile screen');
	await press(stdin, KEYS.down, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Topology'), 'the topology screen');
}

test('target ssh-hosts: the network step asks each machine\'s SSH host, port and user instead of assigning MACs and ports', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} />);
	await toTopology(stdin, lastFrame);
	assert.match(await waitForFrame(lastFrame, f => f.includes('Target:'), 'the target line'), /Target: VMs on this host \(qemu\) · t: existing machines over SSH instead/);
	await press(stdin, 't');
	await waitForFrame(lastFrame, f => f.includes('Target: machines over SSH (ssh-hosts)'), 'the target switched');
	await press(stdin, KEYS.up, KEYS.enter);
	const hosts = await waitForFrame(lastFrame, f => f.includes('Network: existing machines'), 'the machines\' network screen');
	assert.match(hosts, /SSH host +port +user +bastion +cluster IP/);
	assert.doesNotMatch(hosts, /MAC/);
	// The cluster IPs the rehearsal had are kept; the SSH hosts are still to be given.
	assert.match(hosts, /node01 +\(required\) +22 +root +\(none\) +192\.168\.100\.11/);
	assert.match(hosts, /✗ nodes\[0\]\.ssh\.host/);

	await press(stdin, KEYS.down, KEYS.enter, KEYS.ctrlU);
	await type(stdin, '10.20.0.5');
	await press(stdin, KEYS.enter, KEYS.right, KEYS.enter, KEYS.ctrlU);
	await type(stdin, '2222');
	await press(stdin, KEYS.enter, KEYS.right, KEYS.enter, KEYS.ctrlU);
	await type(stdin, 'admin');
	await press(stdin, KEYS.enter);
	const edited = await waitForFrame(lastFrame, f => /node01 +10\.20\.0\.5 +2222 +admin +\(none\) +192\.168\.100\.11/.test(f), 'node01\'s machine filled in');
	assert.doesNotMatch(edited, /✗ nodes\[0\]\.ssh/);
	assert.match(edited, /✗ nodes\[1\]\.ssh\.host/, 'the other machines are still asked for');
});

test('the bastion column: a machine reached through another takes [user@]host[:port]; anything else is refused with the form', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} />);
	await toTopology(stdin, lastFrame);
	await press(stdin, 't');
	await waitForFrame(lastFrame, f => f.includes('(ssh-hosts)'), 'ssh-hosts');
	await press(stdin, KEYS.up, KEYS.enter);
	const hosts = await waitForFrame(lastFrame, f => f.includes('Network: existing machines'), 'the machines\' network screen');
	assert.match(hosts, /SSH host +port +user +bastion +cluster IP/);
	assert.match(hosts, /node02 +\(required\) +22 +root +\(none\) +192\.168\.100\.12/);
	// node02's row, the bastion cell (fourth).
	await press(stdin, KEYS.down, KEYS.down, KEYS.right, KEYS.right, KEYS.right, KEYS.enter, KEYS.ctrlU);
	await type(stdin, 'admin@a@b');
	await press(stdin, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('"admin@a@b" is not a bastion'), 'the refusal');
	assert.match(lastFrame() ?? '', /\[user@\]host\[:port\]/);
	await press(stdin, KEYS.ctrlU);
	await type(stdin, 'admin@10.20.0.1:2200');
	await press(stdin, KEYS.enter);
	// Cut to its column (a row fits 80 columns); the whole text is what the cell edits.
	await waitForFrame(lastFrame, f => /node02 +\(required\) +22 +root +admin@10\.20\.0\.… 192\.168\.100\.12/.test(f), 'node02 reached through the bastion');
	await press(stdin, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('admin@10.20.0.1:2200'), 'the whole bastion in the edit field');
	await press(stdin, KEYS.escape);
});

test('back to the VM target: auto-assignment returns (MAC and SSH port columns)', async () => {
	const {stdin, lastFrame} = render(<App services={realServices()} />);
	await toTopology(stdin, lastFrame);
	await press(stdin, 't');
	await waitForFrame(lastFrame, f => f.includes('(ssh-hosts)'), 'ssh-hosts');
	await press(stdin, 't');
	await waitForFrame(lastFrame, f => f.includes('Target: VMs on this host (qemu)'), 'qemu again');
	// A "t" typed into a name is text, not the target key.
	await press(stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.enter, 't', 't', KEYS.enter);
	await waitForFrame(lastFrame, f => /Node 1 name +node01tt/.test(f), 'the typed name');
	assert.match(lastFrame() ?? '', /VMs on this host \(qemu\)/);
	await press(stdin, KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.enter);
	const vms = await waitForFrame(lastFrame, f => f.includes('Auto-assigned values are dim'), 'the VM network screen');
	assert.match(vms, /MAC/);
	assert.match(vms, /node01tt +192\.168\.100\.11 +52:54:00/);
});
