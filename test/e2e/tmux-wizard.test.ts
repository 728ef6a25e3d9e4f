import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {execa, execaSync} from 'execa';
import {hostTools, skipUnless, template, tempDir} from '../helpers.js';
import {tmuxDriver} from './tmux-driver.js';

const skip = skipUnless(await hostTools({tmux: 'tmux'}));

// The real binary in a real terminal: tmux runs it, send-keys types, capture-pane reads the screen.
const session = `plasma-wizard-${process.pid}`;
const dumbSession = `plasma-wizard-dumb-${process.pid}`;
// The session the helpers below read and type into.
let current = session;
const home = tempDir('plasma-tmux-');
const bin = path.resolve('dist/cli.js');

const {waitForScreen, keys} = tmuxDriver(() => current);

async function freePorts(count: number): Promise<number[]> {
	const servers = await Promise.all(
		Array.from({length: count}, async () => {
			const server = net.createServer();
			await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
			return server;
		}),
	);
	const ports = servers.map(server => (server.address() as net.AddressInfo).port);
	await Promise.all(servers.map(server => new Promise(resolve => server.close(resolve))));
	return ports;
}


before(async () => {
	if (skip) return;
	if (!existsSync(bin)) await execa('npm', ['run', 'build']);
	await execa('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-e', `PLASMA_TUI_HOME=${home}`, process.execPath, bin]);
});

after(() => {
	execaSync('tmux', ['kill-session', '-t', session], {reject: false});
	execaSync('tmux', ['kill-session', '-t', dumbSession], {reject: false});
});

test('the built wizard walks from the demo template to the plan screen in tmux', {skip}, async () => {
	let shown = await waitForScreen('Template: demo');
	assert.match(shown, /plasma-tui · new cluster +step 1\/6: profile/);
	await keys('Down', 'Enter');
	shown = await waitForScreen('Topology');
	assert.match(shown, /Nodes \(1-16\) +3/);
	await keys('Up', 'Enter');
	shown = await waitForScreen('Auto-assigned values are dim');
	assert.match(shown, /node02 +192\.168\.100\.12 +52:54:00:[0-9a-f:]{8} +node02 +2242/);
	// A bad IP is refused with the field and the fix.
	await keys('Down', 'Enter', 'C-u');
	await keys('1', '0', '.', '9', '.', '9', '.', '9', 'Enter');
	shown = await waitForScreen('✗ nodes[0].ip');
	assert.match(shown, /10\.9\.9\.9 is outside the subnet 192\.168\.100\.0\/24/);
	await keys('C-u');
	await waitForScreen(/node01 +192\.168\.100\.11/);
	// Other runs on this host may hold the default SSH ports (the host check then blocks Next): type free ones.
	const ports = await freePorts(3);
	await keys('Right', 'Right', 'Right');
	for (const [index, port] of ports.entries()) {
		if (index > 0) await keys('Down');
		await keys('Enter', 'C-u', ...String(port).split(''), 'Enter');
		await waitForScreen(new RegExp(`node0${index + 1} +\\S+ +\\S+ +node0${index + 1} +${port}`));
	}
	// The host check runs after each change; Next is refused until its verdict on the new ports is in.
	await waitForScreen(/Next: certificates →\n(?![\s\S]*✗)/);
	await keys('Down', 'Enter');
	shown = await waitForScreen('Subject alternative names');
	assert.match(shown, /node01 +DNS node01, node01\.demo\.internal, localhost +IP 192\.168\.100\.11, 127\.0\.0\.1/);
	await keys('Down', 'Down', 'Down', 'Down', 'Enter');
	shown = await waitForScreen('Written', 20_000);
	assert.match(shown, /CA +ECDSA P-256 +expires/);
	await keys('Down', 'Enter');
	shown = await waitForScreen('step 5/6: checks');
	assert.match(shown, /etcd health +http +2379 +60\n/);
	// The etcd health check's port, typed in the table, is what the plan shows.
	await keys('Down', 'Down', 'Down', 'Down', 'Down', 'Enter', 'C-u', '2', '3', '8', '0', 'Enter');
	await waitForScreen(/etcd health +http +2380 /);
	// From etcd health (the 6th check) down past the demo's other checks to Next.
	await keys(...Array(template('demo').checks.length - 5).fill('Down'), 'Enter');
	shown = await waitForScreen('step 6/6: plan');
	assert.match(shown, /etcd health +http +port 2380 +timeout 60 s/);
	assert.match(shown, /stages: preflight -> image -> certificates -> boot -> install -> validate/);
	assert.match(shown, /node03 +control-plane 192\.168\.100\.13/);
	await keys('?');
	await waitForScreen('Keys: plan');
	await keys('Escape');
	await keys('q');
	// Started from the demo template, the profile has a name of its own.
	await waitForScreen('Quit? "demo-2" has unsaved changes.');
	await keys('s');
	const deadline = Date.now() + 10_000;
	while (Date.now() < deadline && (await execa('tmux', ['has-session', '-t', session], {reject: false})).exitCode === 0) {
		await new Promise(resolve => setTimeout(resolve, 100));
	}
	const listed = await execa(process.execPath, [bin, 'profiles'], {env: {PLASMA_TUI_HOME: home}});
	assert.match(listed.stdout, /saved profiles:\n {2}demo-2\n/);
});

test('TERM=dumb on a real terminal falls back to line prompts by itself', {skip}, async () => {
	const dumbHome = tempDir('plasma-tmux-dumb-');
	current = dumbSession;
	await execa('tmux', ['new-session', '-d', '-s', dumbSession, '-x', '120', '-y', '40', 'env', 'TERM=dumb', `PLASMA_TUI_HOME=${dumbHome}`, process.execPath, bin, 'init']);
	let shown = await waitForScreen('Start from template');
	assert.doesNotMatch(shown, /step 1\/\d: profile/);
	await keys('Enter');
	await waitForScreen('Profile name');
	await keys('C-u', ...'dumb1'.split(''), 'Enter');
	shown = await waitForScreen('Number of nodes (1-16)');
	assert.match(shown, /Profile name · dumb1/);
});

test('the wizard follows a resize: header and key footer stay on screen', {skip}, async () => {
	const resizeSession = `plasma-wizard-resize-${process.pid}`;
	current = resizeSession;
	try {
		await execa('tmux', ['new-session', '-d', '-s', resizeSession, '-x', '120', '-y', '40', '-e', `PLASMA_TUI_HOME=${tempDir('plasma-tmux-resize-')}`, process.execPath, bin]);
		await waitForScreen('Template: demo');
		await keys('Down', 'Enter');
		await waitForScreen('Topology');
		await execa('tmux', ['resize-window', '-t', resizeSession, '-x', '90', '-y', '14']);
		// 14 rows: the 9 fields of the topology form no longer fit and must scroll, with header and footer kept.
		const shown = await waitForScreen(/more below/);
		const lines = shown.split('\n');
		assert.match(lines[0]!, /^plasma-tui · profile demo/);
		assert.ok(lines.some(line => line.includes('? help · q quit')), shown);
		assert.ok(lines.length <= 14, shown);
	} finally {
		execaSync('tmux', ['kill-session', '-t', resizeSession], {reject: false});
	}
});
