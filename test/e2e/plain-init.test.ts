import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {stripVTControlCharacters} from 'node:util';
import {execa} from 'execa';
import {ProfileStore} from '../../source/services/profiles.js';
import {tempDir} from '../helpers.js';

// `plasma-tui init` with a pipe for stdin (no TTY) must fall back to line prompts
// by itself, print the same field errors as the wizard and ask the field again.
const bin = path.resolve('dist/cli.js');

before(async () => {
	if (!existsSync(bin)) await execa('npm', ['run', 'build']);
});

test('init without a TTY asks line by line, re-asks a bad subnet with its fix, and saves the profile', async () => {
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
	const result = await child;

	assert.match(output, /no interactive terminal|Start from template|Profile name/);
	assert.match(output, /network\.subnet: "10\.0\.0\.300\/24" is not an IPv4 subnet \(fix: write network address and prefix/);
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
});
