import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {stripVTControlCharacters} from 'node:util';
import {execa} from 'execa';
import {ProfileStore} from '../../source/services/profiles.js';
import {checkName, checkPort} from '../../source/model/check-name.js';
import {tempDir, template} from '../helpers.js';

// `plasma-tui init` with a pipe for stdin (no TTY) must fall back to line prompts
// by itself, print the same field errors as the wizard and ask the field again.
const bin = path.resolve('dist/cli.js');

before(async () => {
	if (!existsSync(bin)) await execa('npm', ['run', 'build']);
});

// Issue 10, point 4: on main before this, init --plain asked nothing about checks: after the
// certificate validity it saved the profile, so no check's port or timeout could be set.
test('init without a TTY asks line by line (checks too), re-asks a bad subnet, port or timeout with its fix, and saves the profile', async () => {
	const home = tempDir('plasma-plain-');
	const child = execa(process.execPath, [bin, 'init', '--template', 'demo'], {
		env: {PLASMA_TUI_HOME: home, TERM: 'xterm-256color'},
		stdin: 'pipe',
		all: true,
		reject: false,
		timeout: 60_000,
	});
	let output = '';
	child.all!.on('data', (chunk: Buffer) => {
		output += stripVTControlCharacters(chunk.toString());
	});
	const count = (text: string) => output.split(text).length - 1;
	// Answers go in only once their question is on screen, as a person would type them.
	const answer = async (question: string, seen: number, text: string) => {
		const started = Date.now();
		while (count(question) <= seen) {
			if (Date.now() - started > 20_000) throw new Error(`timed out waiting for "${question}" (#${seen + 1}); output so far:\n${output}`);
			await new Promise(resolve => setTimeout(resolve, 50));
		}
		await new Promise(resolve => setTimeout(resolve, 100));
		// Clear the prefilled default first (ctrl-u), then type the answer.
		child.stdin!.write(`\u0015${text}\r`);
	};

	await answer('? Profile name', 0, 'plain1');
	await answer('? Number of nodes (1-16)', 0, '2');
	await answer('? Cluster subnet', 0, '10.0.0.300/24');
	await answer('? Cluster subnet', 1, '10.77.0.0/24');
	await answer('? Edit per-node IP, MAC, hostname or SSH port?', 0, 'n');
	await answer('? Certificate key type', 0, '');
	await answer('? Certificate validity (days)', 0, '90');
	// The checks screen's questions: each port where the check has one, and each timeout.
	const checks = template('demo').checks;
	const firstPort = checks.findIndex(check => checkPort(check) !== undefined);
	await answer(`? Edit the ports and timeouts of the ${checks.length} checks?`, 0, 'y');
	for (const [index, check] of checks.entries()) {
		const name = checkName(check);
		if (index === firstPort) {
			await answer(`? ${name}: port`, 0, 'http');
			await answer(`? ${name}: port`, 1, '70000');
			await answer(`? ${name}: port`, 2, '2381');
		} else if (checkPort(check) !== undefined) await answer(`? ${name}: port`, 0, String(checkPort(check)));
		if (index === 0) {
			await answer(`? ${name}: timeout (seconds)`, 0, '0');
			await answer(`? ${name}: timeout (seconds)`, 1, '45');
		} else await answer(`? ${name}: timeout (seconds)`, 0, String(check.timeoutSec));
	}
	const result = await child;

	assert.match(output, /no interactive terminal|Start from template|Profile name/);
	assert.match(output, /network\.subnet: "10\.0\.0\.300\/24" is not an IPv4 subnet \(fix: write network address and prefix/);
	assert.match(output, new RegExp(`checks\\[${firstPort}\\]\\.port: "http" is not a TCP port \\(fix: use a port from 1 to 65535\\)`));
	assert.match(output, new RegExp(`checks\\[${firstPort}\\]\\.port: 70000 is not a TCP port \\(fix: use a port from 1 to 65535\\)`));
	assert.match(output, /checks\[0\]\.timeoutSec: 0 s is not a usable timeout \(fix: set timeoutSec to 1 or more\)/);
	assert.match(output, /Saved profile "plain1"/);
	// Ports already taken by other runs on this host are reported, not hidden: exit 2 then.
	if (result.exitCode !== 0) {
		assert.equal(result.exitCode, 2, output);
		assert.match(output, /already in use/);
	}
	const saved = new ProfileStore(path.join(home, 'config')).load('plain1');
	assert.ok(saved.ok, output);
	assert.equal(saved.profile.nodes.length, 2);
	assert.equal(saved.profile.network.subnet, '10.77.0.0/24');
	assert.equal(saved.profile.tls.keyType, 'ecdsa-p256');
	assert.equal(saved.profile.tls.validityDays, 90);
	assert.equal(saved.profile.checks[0]!.timeoutSec, 45);
	assert.equal(checkPort(saved.profile.checks[firstPort]!), 2381);
	assert.deepEqual(saved.profile.checks.slice(firstPort + 1), checks.slice(firstPort + 1), 'the other checks keep their values');
});

// Issue 10, point 3, in the line prompts: on main before this, init proposed "my-cluster" and
// saved over a saved profile of the typed name without asking.
test('init proposes demo-2 and asks before replacing a saved profile; n asks for the name again', async () => {
	const home = tempDir('plasma-plain-');
	const store = new ProfileStore(path.join(home, 'config'));
	store.save({...template('demo'), name: 'lab', description: 'the old lab'});
	const child = execa(process.execPath, [bin, 'init', '--template', 'demo'], {env: {PLASMA_TUI_HOME: home, TERM: 'xterm-256color'}, stdin: 'pipe', all: true, reject: false, timeout: 60_000});
	let output = '';
	child.all!.on('data', (chunk: Buffer) => {
		output += stripVTControlCharacters(chunk.toString());
	});
	const waitFor = async (text: string, seen = 0) => {
		const started = Date.now();
		while (output.split(text).length - 1 <= seen) {
			if (Date.now() - started > 20_000) throw new Error(`timed out waiting for "${text}"; output so far:\n${output}`);
			await new Promise(resolve => setTimeout(resolve, 50));
		}
		await new Promise(resolve => setTimeout(resolve, 100));
	};
	await waitFor('? Profile name');
	assert.match(output, /Profile name ‣ demo-2/);
	child.stdin!.write('\u0015lab\r');
	await waitFor('? A saved profile "lab" exists. Replace it?');
	child.stdin!.write('n\r');
	await waitFor('? Profile name', 1);
	await waitFor('? Profile name ‣ demo-2', 1);
	child.stdin!.end();
	await child;
	const kept = store.load('lab');
	assert.ok(kept.ok && kept.profile.description === 'the old lab', output);
	assert.deepEqual(store.list(), ['lab']);
});
