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
	assert.match(hosts, /SSH host +port +user +cluster IP/);
	assert.doesNotMatch(hosts, /MAC/);
	// The cluster IPs the rehearsal had are kept; the SSH hosts are still to be given.
	assert.match(hosts, /node01 +\(required\) +22 +root +192\.168\.100\.11/);
	assert.match(hosts, /✗ nodes\[0\]\.ssh\.host/);

	await press(stdin, KEYS.down, KEYS.enter, KEYS.ctrlU);
	await type(stdin, '10.20.0.5');
	await press(stdin, KEYS.enter, KEYS.right, KEYS.enter, KEYS.ctrlU);
	await type(stdin, '2222');
	await press(stdin, KEYS.enter, KEYS.right, KEYS.enter, KEYS.ctrlU);
	await type(stdin, 'admin');
	await press(stdin, KEYS.enter);
	const edited = await waitForFrame(lastFrame, f => /node01 +10\.20\.0\.5 +2222 +admin +192\.168\.100\.11/.test(f), 'node01\'s machine filled in');
	assert.doesNotMatch(edited, /✗ nodes\[0\]\.ssh/);
	assert.match(edited, /✗ nodes\[1\]\.ssh\.host/, 'the other machines are still asked for');
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
