// Issue 9, point 3. On main before this, NodeSsh pinned whatever key answered first
// (the generated key was never consulted: a netboot image's random key got pinned and the
// installed system's generated key was then refused), ssh.hostKeyPolicy was an unknown key,
// nothing checked which process held the forwarded port, the plan did not say which key
// was expected, and an abort that landed while connect read its key file was lost: the
// connection went on and handed back an open session.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {HostKeyMismatchError, NodeSsh, waitForSsh, type SshTarget} from '../../source/services/ssh.js';
import {ensureKeyPair} from '../../source/services/ssh-keys.js';
import {portOwnedBy} from '../../source/services/port-owner.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {formatPlan} from '../../source/model/plan-format.js';
import {planIn, skipUnless, tempDir, template, waitFor} from '../helpers.js';
import {freePort, hostKey, sshdPrerequisites, startSshd, type LocalSshd} from '../local-sshd.js';

const skip = skipUnless(await sshdPrerequisites());

describe('host keys pinned by the plan, not by whoever answers first', {skip}, () => {
	const dir = tempDir('plasma-hostkey-');
	const key = path.join(dir, 'id_ed25519');
	// The key plasma-tui generated for the node, and the one a netboot image made for itself.
	let generated: {path: string; fingerprint: string};
	let netbootKey: {path: string; fingerprint: string};
	let sshd: LocalSshd;
	let sshdPid: number;
	const open: NodeSsh[] = [];

	const target = (overrides: Partial<SshTarget> = {}): SshTarget => ({
		node: 'node01',
		host: '127.0.0.1',
		port: sshd.port,
		username: sshd.user,
		privateKeyPath: key,
		pinStorePath: path.join(dir, 'pins', 'known_hosts.json'),
		policy: 'generated',
		generatedPublicKey: `${generated.path}.pub`,
		...overrides,
	});

	before(async () => {
		await ensureKeyPair(key, `${key}.pub`, 'plasma-test');
		generated = await hostKey(dir, 'generated_ed25519');
		netbootKey = await hostKey(dir, 'netboot_ed25519');
		// The "netboot image": a real sshd that presents its own key, not the generated one.
		sshd = await startSshd({port: await freePort(), authorizedKeys: readFileSync(`${key}.pub`, 'utf8'), hostKey: netbootKey});
		// sshd writes its pid file just after it says it listens.
		const pidFile = path.join(sshd.dir, `sshd-${sshd.port}.pid`);
		await waitFor('sshd\'s pid file', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
		sshdPid = Number(readFileSync(pidFile, 'utf8'));
	});

	after(async () => {
		for (const ssh of open) ssh.close();
		await sshd?.stop();
	});

	test('under "generated", another key is refused outside the netboot window, naming both keys and the policy to choose', async () => {
		const check = (error: Error) => {
			assert.ok(error instanceof HostKeyMismatchError, `not a HostKeyMismatchError: ${error.message}`);
			assert.ok(error.message.includes(netbootKey.fingerprint), 'names the presented key');
			assert.ok(error.message.includes(`the generated key ${generated.fingerprint} is expected`), error.message);
			assert.match(error.message, /fix: .*set ssh\.hostKeyPolicy to "first-use"/);
			return true;
		};
		// No window: a QEMU this run attached to (or no QEMU at all).
		await assert.rejects(NodeSsh.connect(target(), {timeoutMs: 10_000}), check);
		// The window of this run's QEMU, closed because install began.
		await assert.rejects(NodeSsh.connect(target({netboot: {pid: sshdPid, isOpen: () => false}}), {timeoutMs: 10_000}), (error: Error) => check(error) && /netboot window closed at install/.test(error.message));
		// Waiting does not retry a refused key.
		const started = Date.now();
		await assert.rejects(waitForSsh(target(), {timeoutMs: 30_000}), check);
		assert.ok(Date.now() - started < 5000);
		// Nothing was pinned by first contact.
		assert.equal(existsSync(target().pinStorePath), false);
	});

	test('under "generated", a netboot key is accepted only from the process that holds the forwarded port', async () => {
		const accepted = await NodeSsh.connect(target({netboot: {pid: sshdPid, isOpen: () => true}}), {timeoutMs: 10_000});
		open.push(accepted);
		assert.equal(accepted.hostKey, netbootKey.fingerprint);
		assert.equal(accepted.hostKeyTrust, 'netboot');
		assert.equal(existsSync(target().pinStorePath), false, 'a netboot key is never pinned');

		// Another process (not the one holding the port) as "this run's QEMU": refused.
		const other = spawn('sleep', ['30'], {stdio: 'ignore'});
		try {
			await assert.rejects(NodeSsh.connect(target({netboot: {pid: other.pid!, isOpen: () => true}}), {timeoutMs: 10_000}), (error: Error) => {
				assert.ok(error instanceof HostKeyMismatchError);
				assert.ok(error.message.includes(`127.0.0.1:${sshd.port} is held by another process than pid ${other.pid}`), error.message);
				return true;
			});
		} finally {
			other.kill();
		}
	});

	test('the port-ownership check: a listener owned by another process than the expected pid is refused', async () => {
		const server = net.createServer();
		await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
		const {port} = server.address() as net.AddressInfo;
		try {
			// This test's own net.Server is not the "QEMU" pid.
			assert.deepEqual(await portOwnedBy(port, process.ppid), {owned: false, why: `127.0.0.1:${port} is held by another process than pid ${process.ppid}`});
			assert.equal((await portOwnedBy(port, process.pid)).owned, true);
		} finally {
			await new Promise(resolve => server.close(resolve));
		}
		assert.deepEqual(await portOwnedBy(port, process.pid), {owned: false, why: `nothing listens on 127.0.0.1:${port}`});
	});

	test('under "generated", the generated key is accepted in every phase and pinned before first contact', async () => {
		const port = await freePort();
		const installed = await startSshd({port, authorizedKeys: readFileSync(`${key}.pub`, 'utf8'), hostKey: generated, dir: tempDir('plasma-installed-')});
		try {
			const ssh = await NodeSsh.connect(target({port}), {timeoutMs: 10_000});
			open.push(ssh);
			assert.equal(ssh.hostKey, generated.fingerprint);
			assert.equal(ssh.hostKeyTrust, 'generated');
		} finally {
			await installed.stop();
		}
		// A missing generated key is a problem with the fix, never "accept anything".
		await assert.rejects(NodeSsh.connect(target({port, generatedPublicKey: path.join(dir, 'absent.pub')}), {timeoutMs: 10_000}), /the generated host key .*absent\.pub cannot be read \(ENOENT\) \(fix: run up/);
	});

	test('under "first-use", the first key is pinned, then a changed key is refused with a fix that names "generated"', async () => {
		const pinStorePath = path.join(dir, 'first-use', 'known_hosts.json');
		const first = await NodeSsh.connect(target({policy: 'first-use', pinStorePath}), {timeoutMs: 10_000});
		open.push(first);
		assert.equal(first.hostKeyTrust, 'first-use');
		assert.equal(JSON.parse(readFileSync(pinStorePath, 'utf8')).node01.fingerprint, netbootKey.fingerprint);

		const port = await freePort();
		const changed = await startSshd({port, authorizedKeys: readFileSync(`${key}.pub`, 'utf8'), hostKey: generated, dir: tempDir('plasma-changed-')});
		try {
			await assert.rejects(NodeSsh.connect(target({policy: 'first-use', pinStorePath, port}), {timeoutMs: 10_000}), (error: Error) => {
				assert.ok(error instanceof HostKeyMismatchError);
				assert.ok(error.message.includes(generated.fingerprint) && error.message.includes(netbootKey.fingerprint), error.message);
				assert.match(error.message, /fix: if the node was really reinstalled, remove its entry from .*set ssh\.hostKeyPolicy to "generated"/);
				return true;
			});
			// A netboot window does not apply to first-use: it pins, it does not guess.
			await assert.rejects(NodeSsh.connect(target({policy: 'first-use', pinStorePath, port, netboot: {pid: process.pid, isOpen: () => true}}), {timeoutMs: 10_000}), HostKeyMismatchError);
		} finally {
			await changed.stop();
		}
	});

	test('an abort during connect never leaves a session open', async () => {
		const accepted = () => (sshd.log().match(/Accepted publickey/g) ?? []).length;
		const before = accepted();
		// Abort while connect reads its key file: on main the connection went on and resolved.
		const early = new AbortController();
		const pending = NodeSsh.connect(target({netboot: {pid: sshdPid, isOpen: () => true}}), {timeoutMs: 10_000, signal: early.signal});
		early.abort(new Error('stopped by the operator'));
		await assert.rejects(pending, /stopped by the operator/);
		await assert.rejects(waitForSsh(target(), {timeoutMs: 10_000, signal: early.signal}), /stopped by the operator/);

		// Abort mid-handshake: a proxy aborts when the server's banner passes through.
		const clientSockets: net.Socket[] = [];
		const proxy = net.createServer(client => {
			clientSockets.push(client);
			const upstream = net.connect(sshd.port, '127.0.0.1');
			upstream.once('data', () => mid.abort(new Error('aborted mid-handshake')));
			client.pipe(upstream).pipe(client);
			client.on('close', () => upstream.destroy());
			upstream.on('close', () => client.destroy());
			client.on('error', () => undefined);
			upstream.on('error', () => undefined);
		});
		await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve));
		const mid = new AbortController();
		try {
			const proxyPort = (proxy.address() as net.AddressInfo).port;
			await assert.rejects(NodeSsh.connect(target({port: proxyPort, policy: 'first-use', pinStorePath: path.join(dir, 'mid', 'known_hosts.json')}), {timeoutMs: 10_000, signal: mid.signal}), /aborted mid-handshake/);
			await waitFor('the client side of the aborted connection to close', () => clientSockets.length === 1 && clientSockets[0]!.destroyed);
		} finally {
			await new Promise(resolve => proxy.close(resolve));
		}
		// Give sshd time to log a login, had one happened.
		await new Promise(resolve => setTimeout(resolve, 500));
		assert.equal(accepted(), before, 'sshd accepted a login after the abort');
		assert.equal(existsSync(path.join(dir, 'mid', 'known_hosts.json')), false, 'nothing pinned after the abort');
	});
});

describe('the plan says which host key is expected in which phase', () => {
	test('ssh.hostKeyPolicy is generated by default; first-use is accepted; anything else is a field error', () => {
		const profile = template();
		assert.equal(profile.ssh.hostKeyPolicy, 'generated');
		const parsed = parseProfile({...profile, ssh: {...profile.ssh, hostKeyPolicy: 'tofu'}});
		assert.equal(parsed.ok, false);
		assert.match(JSON.stringify(!parsed.ok && parsed.errors), /"field":"ssh.hostKeyPolicy","message":"must be one of \\"generated\\", \\"first-use\\""/);
		assert.equal(parseProfile({...profile, ssh: {...profile.ssh, hostKeyPolicy: 'first-use'}}).ok, true);
	});

	test('plan text and JSON name the generated key for the installed system and the netboot window', () => {
		const dir = tempDir();
		const plan = planIn(dir);
		const node = plan.nodes[0]!;
		assert.equal(plan.ssh.hostKeyPolicy, 'generated');
		assert.deepEqual(node.hostKey, {policy: 'generated', expect: `host key: generated key ${node.files.hostKeyPub} (installed system); netboot: any key from the QEMU this run starts (its pid, port ${node.sshPort}) until install`});
		const text = formatPlan(plan);
		assert.ok(text.includes('host keys (ssh.hostKeyPolicy generated):'), text);
		assert.ok(text.includes(`  node01   ${node.hostKey.expect}`), text);
		assert.deepEqual(JSON.parse(JSON.stringify(plan)).nodes[0].hostKey, node.hostKey);

		const profile = template();
		profile.ssh.hostKeyPolicy = 'first-use';
		const firstUse = planIn(dir, profile);
		assert.equal(firstUse.nodes[1]!.hostKey.expect, `host key: first use: the first key seen on 127.0.0.1:${firstUse.nodes[1]!.sshPort} is pinned in ${firstUse.ssh.knownHosts}; a changed key is refused`);
	});
});
