import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {execa, execaSync} from 'execa';
import {tempDir} from '../helpers.js';

// The real binary in a real terminal: tmux runs it, send-keys types, capture-pane reads the screen.
const session = `plasma-wizard-${process.pid}`;
const home = tempDir('plasma-tmux-');
const bin = path.resolve('dist/cli.js');

async function screen(): Promise<string> {
	return (await execa('tmux', ['capture-pane', '-p', '-t', session])).stdout;
}

async function waitForScreen(text: string | RegExp, timeoutMs = 15_000): Promise<string> {
	const started = Date.now();
	let last = '';
	while (Date.now() - started < timeoutMs) {
		last = await screen();
		if (typeof text === 'string' ? last.includes(text) : text.test(last)) return last;
		await new Promise(resolve => setTimeout(resolve, 100));
	}
	throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(text)} on the screen; it shows:\n${last}`);
}

async function keys(...names: string[]): Promise<void> {
	for (const name of names) {
		await execa('tmux', ['send-keys', '-t', session, name]);
		await new Promise(resolve => setTimeout(resolve, 60));
	}
}

before(async () => {
	if (!existsSync(bin)) await execa('npm', ['run', 'build']);
	await execa('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-e', `PLASMA_TUI_HOME=${home}`, process.execPath, bin]);
});

after(() => {
	execaSync('tmux', ['kill-session', '-t', session], {reject: false});
});

test('the built wizard walks from the demo template to the plan screen in tmux', async () => {
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
	await keys('Down', 'Down', 'Down', 'Enter');
	shown = await waitForScreen('Subject alternative names');
	assert.match(shown, /node01 +DNS node01, node01\.demo\.internal, localhost +IP 192\.168\.100\.11, 127\.0\.0\.1/);
	await keys('Down', 'Down', 'Down', 'Down', 'Enter');
	shown = await waitForScreen('Written', 20_000);
	assert.match(shown, /CA +ECDSA P-256 +expires/);
	await keys('Down', 'Enter');
	shown = await waitForScreen('step 5/6: plan');
	assert.match(shown, /stages: preflight -> image -> certificates -> boot -> install \(push\) -> validate/);
	assert.match(shown, /node03 +control-plane 192\.168\.100\.13/);
	await keys('?');
	await waitForScreen('Keys: plan');
	await keys('Escape');
	await keys('q');
	await waitForScreen('Quit? "demo" has unsaved changes.');
	await keys('s');
	const deadline = Date.now() + 10_000;
	while (Date.now() < deadline && (await execa('tmux', ['has-session', '-t', session], {reject: false})).exitCode === 0) {
		await new Promise(resolve => setTimeout(resolve, 100));
	}
	const listed = await execa(process.execPath, [bin, 'profiles'], {env: {PLASMA_TUI_HOME: home}});
	assert.match(listed.stdout, /saved profiles:\n {2}demo\n/);
});
