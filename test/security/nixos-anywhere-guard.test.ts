// Issue 9, point 4. On main before this, nixos-anywhere (which checks no host key of its
// own SSH sessions) went on running after the node's QEMU exited, until its own timeout,
// and started without any check that the node still presented its pinned key on the
// port its QEMU holds: whoever answered got the node's secrets and host key.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {existsSync, readFileSync, rmSync} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {installNode} from '../../source/services/install.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {HostKeyMismatchError, NodeSsh} from '../../source/services/ssh.js';
import {ensureKeyPair} from '../../source/services/ssh-keys.js';
import {nodeGoneSignal} from '../../source/engine/up.js';
import {assertProcessGone, planIn, skipUnless, template, tempDir, waitFor} from '../helpers.js';
import {freePort, hostKey, sshdPrerequisites, startSshd, type LocalSshd} from '../local-sshd.js';

const dir = tempDir('plasma-na-guard-');
const bin = path.join(dir, 'bin');
const record = path.join(dir, 'record');
const originalPath = process.env.PATH;
const profile = template('plasmacloud-3node');
profile.workDir = path.join(dir, 'work');
profile.install.timeoutSec = 120;
const plan = planIn(dir, profile);
const node = plan.nodes[0]!;

// Records that it started, then hangs with a child of its own (like nixos-anywhere's ssh).
const standIn = `#!/bin/sh
echo started > "${record}.started"
sleep 300 & echo $! > "${record}.child"
echo "hanging"
wait
`;

before(async () => {
	await writeArtifacts(plan);
	await fs.mkdir(bin);
	await fs.writeFile(path.join(bin, 'nixos-anywhere'), standIn, {mode: 0o755});
	process.env.PATH = `${bin}:${originalPath}`;
});

after(() => {
	process.env.PATH = originalPath;
});

const reset = () => rmSync(`${record}.started`, {force: true});

describe('nixos-anywhere ends with the node\'s QEMU', () => {
	test('the stand-in and its child are killed as soon as the node\'s "QEMU" exit promise resolves', {timeout: 20_000}, async () => {
		reset();
		let qemuExits: (outcome: {code: number; lastLines: string[]}) => void = () => undefined;
		const exited = new Promise<{code: number; lastLines: string[]}>(resolve => (qemuExits = resolve));
		const started = Date.now();
		await assert.rejects(
			installNode({plan, node, nodeGone: nodeGoneSignal(exited, node.name), onLine: line => line === 'hanging' && qemuExits({code: 1, lastLines: []})}),
			/nixos-anywhere stopped: node01's QEMU exited; last lines: .*hanging/,
		);
		assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
		await assertProcessGone(Number(readFileSync(`${record}.child`, 'utf8')));
		assert.equal(existsSync(node.install.method === 'nixos-anywhere' ? node.install.extraFilesDir : ''), false, 'the extra files are removed');
	});

	test('a node whose QEMU is already gone never starts nixos-anywhere', async () => {
		reset();
		const gone = nodeGoneSignal(Promise.resolve({code: 0, lastLines: []}), node.name);
		await new Promise(resolve => setImmediate(resolve));
		await assert.rejects(installNode({plan, node, nodeGone: gone, onLine: () => undefined}), /node01: nixos-anywhere not started or stopped: the node's QEMU exited/);
		assert.equal(existsSync(`${record}.started`), false);
	});
});

const skip = skipUnless(await sshdPrerequisites());

describe('the pinned key is checked right before nixos-anywhere starts', {skip}, () => {
	const key = path.join(dir, 'id_ed25519');
	let port: number;
	let first: LocalSshd;
	let session: NodeSsh;

	before(async () => {
		await ensureKeyPair(key, `${key}.pub`, 'plasma-test');
		port = await freePort();
		first = await startSshd({port, authorizedKeys: readFileSync(`${key}.pub`, 'utf8')});
		session = await NodeSsh.connect({node: node.name, host: '127.0.0.1', port, username: first.user, privateKeyPath: key, pinStorePath: path.join(dir, 'pins.json'), policy: 'first-use'}, {timeoutMs: 10_000});
	});

	after(async () => {
		session?.close();
		await first?.stop();
	});

	test('another key on the node\'s port refuses the install before nixos-anywhere runs', {timeout: 20_000}, async () => {
		reset();
		await first.stop();
		const other = await hostKey(dir, 'other_ed25519');
		const impostor = await startSshd({port, authorizedKeys: readFileSync(`${key}.pub`, 'utf8'), hostKey: other, dir: tempDir('plasma-impostor-')});
		try {
			await assert.rejects(installNode({plan, node, ssh: session, onLine: () => undefined}), (error: Error) => {
				assert.ok(error instanceof HostKeyMismatchError, error.message);
				assert.ok(error.message.includes(other.fingerprint) && error.message.includes(first.hostKey.fingerprint), error.message);
				return true;
			});
			assert.equal(existsSync(`${record}.started`), false, 'nixos-anywhere started although another key answered');
		} finally {
			await impostor.stop();
		}
	});

	test('the same key on a port held by another process than the node\'s QEMU refuses the install', {timeout: 20_000}, async () => {
		reset();
		first = await startSshd({port, authorizedKeys: readFileSync(`${key}.pub`, 'utf8'), hostKey: first.hostKey, dir: first.dir});
		// sshd writes its pid file just after it says it listens.
		const pidFile = path.join(first.dir, `sshd-${port}.pid`);
		await waitFor('sshd\'s pid file', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
		const sshdPid = Number(readFileSync(pidFile, 'utf8'));
		const notQemu = spawn('sleep', ['30'], {stdio: 'ignore'});
		try {
			await assert.rejects(installNode({plan, node, ssh: session, qemuPid: notQemu.pid, onLine: () => undefined}), new RegExp(`node01: 127\\.0\\.0\\.1:${port} is held by another process than pid ${notQemu.pid}: not starting the install`));
			assert.equal(existsSync(`${record}.started`), false);
		} finally {
			notQemu.kill();
		}
		// The right key on the port its "QEMU" (here the sshd) holds: nixos-anywhere starts.
		const controller = new AbortController();
		await assert.rejects(installNode({plan, node, ssh: session, qemuPid: sshdPid, signal: controller.signal, onLine: line => line === 'hanging' && controller.abort()}), /nixos-anywhere cancelled/);
		assert.equal(existsSync(`${record}.started`), true);
		await assertProcessGone(Number(readFileSync(`${record}.child`, 'utf8')));
	});
});
