import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync, statSync} from 'node:fs';
import fs from 'node:fs/promises';
import {type KeyObject, randomBytes, X509Certificate} from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import type tls from 'node:tls';
import {HostKeyMismatchError, NodeSsh, waitForSsh, type SshTarget} from '../../source/services/ssh.js';
import {ensureKeyPair} from '../../source/services/ssh-keys.js';
import {createCa, issueNodeCertificate} from '../../source/services/tls.js';
import {skipUnless, tempDir} from '../helpers.js';
import {freePort, hostKey, sshdPrerequisites, startSshd, type LocalSshd} from '../local-sshd.js';

// Against a real OpenSSH sshd on 127.0.0.1, started and stopped by the test.

const skip = skipUnless(await sshdPrerequisites());

describe('NodeSsh against a real sshd', {skip}, () => {
	const dir = tempDir('plasma-ssh-');
	const key = path.join(dir, 'id_ed25519');
	const wrongKey = path.join(dir, 'wrong_ed25519');
	let sshd: LocalSshd;
	const open: NodeSsh[] = [];
	const servers: net.Server[] = [];

	const target = (overrides: Partial<SshTarget> = {}): SshTarget => ({
		node: 'node01',
		host: '127.0.0.1',
		port: sshd.port,
		username: sshd.user,
		privateKeyPath: key,
		pinStorePath: path.join(dir, 'pins', 'known_hosts.json'),
		...overrides,
	});
	const keep = (ssh: NodeSsh) => {
		open.push(ssh);
		return ssh;
	};

	before(async () => {
		await ensureKeyPair(key, `${key}.pub`, 'plasma-test');
		await ensureKeyPair(wrongKey, `${wrongKey}.pub`, 'someone-else');
		sshd = await startSshd({port: await freePort(), authorizedKeys: readFileSync(`${key}.pub`, 'utf8')});
	});

	after(async () => {
		for (const ssh of open) ssh.close();
		for (const server of servers) server.close();
		await sshd?.stop();
	});

	test('first contact pins the host key ssh-keygen reports, in a 0600 pin file', async () => {
		const ssh = keep(await NodeSsh.connect(target(), {timeoutMs: 10_000}));
		assert.equal(ssh.hostKey, sshd.hostKey.fingerprint);
		const pinFile = target().pinStorePath;
		assert.equal(statSync(pinFile).mode & 0o777, 0o600);
		const pins = JSON.parse(readFileSync(pinFile, 'utf8'));
		assert.equal(pins.node01.fingerprint, sshd.hostKey.fingerprint);
		assert.equal(pins.node01.port, sshd.port);
	});

	test('a reconnect with the same host key works and leaves the pin as it was', async () => {
		const before = readFileSync(target().pinStorePath, 'utf8');
		const ssh = keep(await NodeSsh.connect(target(), {timeoutMs: 10_000}));
		assert.equal(ssh.hostKey, sshd.hostKey.fingerprint);
		assert.equal(readFileSync(target().pinStorePath, 'utf8'), before);
	});

	test('exec returns the exit code, stdout and stderr, and streams lines', async () => {
		const ssh = keep(await NodeSsh.connect(target(), {timeoutMs: 10_000}));
		const lines: string[] = [];
		const result = await ssh.exec('echo one; echo two >&2; printf "three\\nfour"; exit 3', {onLine: (line, stream) => lines.push(`${stream}:${line}`)});
		assert.equal(result.code, 3);
		assert.equal(result.stdout, 'one\nthree\nfour');
		assert.equal(result.stderr, 'two\n');
		assert.deepEqual(lines.sort(), ['stderr:two', 'stdout:four', 'stdout:one', 'stdout:three']);
		assert.equal((await ssh.exec('true')).code, 0);
		await assert.rejects(ssh.exec('sleep 5', {timeoutMs: 300}), /did not finish within/);
		const aborted = new AbortController();
		setTimeout(() => aborted.abort(new Error('stopped by the operator')), 200);
		await assert.rejects(ssh.exec('sleep 5', {signal: aborted.signal}), /stopped by the operator/);
	});

	test('writeFile and upload set the remote modes and create parents 0700', async () => {
		const ssh = keep(await NodeSsh.connect(target(), {timeoutMs: 10_000}));
		const remote = path.join(tempDir('plasma-remote-'), 'etc', 'secrets');
		const keyFile = path.join(remote, 'node01.key');
		await ssh.writeFile(keyFile, 'secret key\n', 0o400);
		assert.equal(statSync(keyFile).mode & 0o777, 0o400);
		assert.equal(statSync(remote).mode & 0o777, 0o700);
		assert.equal(readFileSync(keyFile, 'utf8'), 'secret key\n');
		// A rerun replaces a 0400 file and keeps its mode.
		await ssh.writeFile(keyFile, 'new key\n', 0o400);
		assert.equal(readFileSync(keyFile, 'utf8'), 'new key\n');
		assert.equal(statSync(keyFile).mode & 0o777, 0o400);
		const local = path.join(dir, 'ca.crt');
		await fs.writeFile(local, 'certificate\n', {mode: 0o600});
		await ssh.upload(local, path.join(remote, 'ca.crt'), 0o644);
		assert.equal(statSync(path.join(remote, 'ca.crt')).mode & 0o777, 0o644);
		assert.equal(readFileSync(path.join(remote, 'ca.crt'), 'utf8'), 'certificate\n');
	});

	test('HTTP through forwardOut reaches a port on the node without a listener on the host', async () => {
		const server = http.createServer((request, response) => response.end(JSON.stringify({path: request.url})));
		await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
		servers.push(server);
		const ssh = keep(await NodeSsh.connect(target(), {timeoutMs: 10_000}));
		const answer = await ssh.httpsRequest({destHost: '127.0.0.1', port: (server.address() as net.AddressInfo).port, path: '/health', https: false, timeoutMs: 5000});
		assert.equal(answer.status, 200);
		assert.deepEqual(JSON.parse(answer.body), {path: '/health'});
	});

	test('HTTPS through forwardOut resumes the TLS session on the next request, and a server that forgot it gets a full handshake', async () => {
		// Each check opens its own connection; a resumed one skips the certificate signature and
		// the client-certificate verification, work a TCG guest's etcd does slowly after a restore.
		const created = await createCa('CN=resume CA', 'ecdsa-p256', 1);
		const ca = {cert: new X509Certificate(created.certPem), pem: created.certPem, key: created.key, keyType: 'ecdsa-p256' as const};
		const node = {hostname: 'node01', fqdn: 'node01.test', ip: '127.0.0.1'};
		const pem = (key: KeyObject) => key.export({type: 'pkcs8', format: 'pem'}).toString();
		const served = await issueNodeCertificate(ca, node, 'ecdsa-p256', 1);
		const client = await issueNodeCertificate(ca, node, 'ecdsa-p256', 1);
		const resumed: boolean[] = [];
		const server = https.createServer({key: pem(served.key), cert: served.certPem, ca: created.certPem, requestCert: true, rejectUnauthorized: true}, (request, response) => {
			resumed.push((request.socket as tls.TLSSocket).isSessionReused());
			response.end('{"health":"true"}');
		});
		await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
		servers.push(server);
		const ssh = keep(await NodeSsh.connect(target(), {timeoutMs: 10_000}));
		const request = () => ssh.httpsRequest({destHost: '127.0.0.1', port: (server.address() as net.AddressInfo).port, path: '/health', ca: created.certPem, cert: client.certPem, key: pem(client.key), timeoutMs: 5000});
		for (let i = 0; i < 3; i++) assert.equal((await request()).status, 200);
		assert.deepEqual(resumed, [false, true, true]);
		server.setTicketKeys(randomBytes(48));
		assert.equal((await request()).status, 200);
		assert.equal((await request()).status, 200);
		assert.deepEqual(resumed.slice(3), [false, true], 'new ticket keys: one full handshake, then resumed again');
	});

	test('a key the server does not accept gives an authentication error naming the key and the fix', async () => {
		await assert.rejects(NodeSsh.connect(target({privateKeyPath: wrongKey}), {timeoutMs: 10_000}), (error: Error) => {
			assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${sshd.port} refused ${sshd.user} with the key ${wrongKey}`));
			assert.match(error.message, /fix: the node's authorized_keys must hold .*wrong_ed25519\.pub/);
			return true;
		});
	});

	test('a changed host key is refused with the node, both fingerprints and the fix, and never re-pinned', async () => {
		const port = await freePort();
		const pinStorePath = path.join(dir, 'pins-changed', 'known_hosts.json');
		const first = await startSshd({port, authorizedKeys: readFileSync(`${key}.pub`, 'utf8')});
		try {
			keep(await NodeSsh.connect(target({node: 'node02', port, pinStorePath}), {timeoutMs: 10_000}));
		} finally {
			await first.stop();
		}
		const other = await hostKey(first.dir, 'host2_ed25519');
		const second = await startSshd({port, authorizedKeys: readFileSync(`${key}.pub`, 'utf8'), hostKey: other, dir: first.dir});
		try {
			const pinsBefore = readFileSync(pinStorePath, 'utf8');
			const check = (error: Error) => {
				assert.ok(error instanceof HostKeyMismatchError, `not a HostKeyMismatchError: ${error.message}`);
				assert.match(error.message, /^node02 presented host key /);
				assert.ok(error.message.includes(other.fingerprint), 'names the presented key');
				assert.ok(error.message.includes(first.hostKey.fingerprint), 'names the pinned key');
				assert.ok(error.message.includes(`fix: if the node was really reinstalled, remove its entry from ${pinStorePath}`), error.message);
				return true;
			};
			await assert.rejects(NodeSsh.connect(target({node: 'node02', port, pinStorePath}), {timeoutMs: 10_000}), check);
			// Waiting does not retry a refused key: it fails at once.
			const started = Date.now();
			await assert.rejects(waitForSsh(target({node: 'node02', port, pinStorePath}), {timeoutMs: 30_000}), check);
			assert.ok(Date.now() - started < 5000);
			// A key pinned in the profile wins over the pin file.
			await assert.rejects(NodeSsh.connect(target({node: 'node09', port, pinStorePath, pinned: first.hostKey.fingerprint}), {timeoutMs: 10_000}), HostKeyMismatchError);
			assert.equal(readFileSync(pinStorePath, 'utf8'), pinsBefore);
		} finally {
			await second.stop();
		}
	});

	test('waitForSsh retries while nothing listens, reports the last error, and connects once sshd starts', {timeout: 30_000}, async () => {
		const port = await freePort();
		const waits: Array<{lastError: string; attempt: number}> = [];
		let late: LocalSshd | undefined;
		const starting = new Promise<void>(resolve =>
			setTimeout(async () => {
				late = await startSshd({port, authorizedKeys: readFileSync(`${key}.pub`, 'utf8')});
				resolve();
			}, 1200),
		);
		try {
			const ssh = keep(await waitForSsh(target({node: 'node03', port}), {timeoutMs: 20_000, onWait: info => waits.push(info)}));
			await starting;
			assert.equal(ssh.hostKey, late!.hostKey.fingerprint);
			assert.ok(waits.length >= 2, `waited ${waits.length} times`);
			assert.match(waits[0]!.lastError, new RegExp(`connection refused on 127\\.0\\.0\\.1:${port}: nothing listens there yet`));
			assert.deepEqual(waits.map(w => w.attempt), waits.map((_, index) => index + 1));
		} finally {
			await starting;
			await late?.stop();
		}
	});

	test('a server that accepts TCP but sends no banner fails within the timeout and says so', {timeout: 20_000}, async () => {
		const silent = net.createServer(() => undefined);
		await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve));
		servers.push(silent);
		const port = (silent.address() as net.AddressInfo).port;
		const waits: string[] = [];
		const started = Date.now();
		await assert.rejects(waitForSsh(target({node: 'node04', port}), {timeoutMs: 3500, attemptTimeoutMs: 1000, onWait: info => waits.push(info.lastError)}), (error: Error) => {
			assert.match(error.message, new RegExp(`timed out after 4 s waiting for SSH on node04 \\(127\\.0\\.0\\.1:${port}\\): connected to 127\\.0\\.0\\.1:${port} but no SSH banner within`));
			return true;
		});
		const elapsed = Date.now() - started;
		assert.ok(elapsed < 4500, `took ${elapsed} ms`);
		assert.ok(waits.length >= 1);
		assert.match(waits[0]!, /but no SSH banner within 1 s \(the port accepts TCP, but no SSH server answers on it\)/);
	});

	test('a server that sends a banner and then stalls is told apart from one that sends none', async () => {
		const stalling = net.createServer(socket => socket.write('SSH-2.0-Stalled_1.0\r\n'));
		await new Promise<void>(resolve => stalling.listen(0, '127.0.0.1', resolve));
		servers.push(stalling);
		const port = (stalling.address() as net.AddressInfo).port;
		await assert.rejects(NodeSsh.connect(target({node: 'node07', port}), {timeoutMs: 1000}), new RegExp(`^Error: 127\\.0\\.0\\.1:${port} \\(SSH-2\\.0-Stalled_1\\.0\\) did not finish the SSH handshake within 1 s$`));
	});

	test('a port that accepts and closes at once (QEMU forward, guest not up) is named as such', async () => {
		const closing = net.createServer(socket => socket.destroy());
		await new Promise<void>(resolve => closing.listen(0, '127.0.0.1', resolve));
		servers.push(closing);
		const port = (closing.address() as net.AddressInfo).port;
		await assert.rejects(NodeSsh.connect(target({node: 'node05', port}), {timeoutMs: 3000}), /accepted TCP and closed it before any SSH banner|connection reset by .* before any SSH banner/);
	});

	test('after the wake signal, retries are paced, not a tight loop', {timeout: 10_000}, async () => {
		const port = await freePort();
		let attempts = 0;
		await assert.rejects(waitForSsh(target({node: 'node06', port}), {timeoutMs: 2000, wake: {promise: Promise.resolve()}, onWait: info => (attempts = info.attempt)}), /connection refused/);
		assert.ok(attempts >= 3 && attempts <= 10, `${attempts} attempts in 2 s`);
		assert.equal(existsSync(path.join(dir, 'pins', 'node06')), false);
	});
	// A frozen VM (QMP stop): QEMU's user-mode NIC keeps the TCP connection open, nothing answers.
	test('a node that stops answering ends exec and forwardOut at their deadline, channel open included', {timeout: 20_000}, async () => {
		let frozen = false;
		const sockets: net.Socket[] = [];
		const proxy = net.createServer(client => {
			const upstream = net.connect(sshd.port, '127.0.0.1');
			sockets.push(client, upstream);
			client.on('data', chunk => void (frozen || upstream.write(chunk)));
			upstream.on('data', chunk => void (frozen || client.write(chunk)));
			client.on('error', () => undefined);
			upstream.on('error', () => undefined);
		});
		await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve));
		servers.push(proxy);
		const port = (proxy.address() as net.AddressInfo).port;
		const ssh = keep(await NodeSsh.connect(target({node: 'node08', port, pinStorePath: path.join(dir, 'pins-frozen.json')}), {timeoutMs: 10_000}));
		assert.equal((await ssh.exec('echo up', {timeoutMs: 5000})).stdout.trim(), 'up');
		frozen = true;
		let started = Date.now();
		await assert.rejects(ssh.exec('echo frozen', {timeoutMs: 1500}), /node08: "echo frozen" did not finish within 2 s/);
		assert.ok(Date.now() - started < 3000, `exec took ${Date.now() - started} ms`);
		started = Date.now();
		await assert.rejects(ssh.forwardOut('127.0.0.1', sshd.port, 1500), /node08: no tunnel to 127\.0\.0\.1:\d+ within 2 s/);
		assert.ok(Date.now() - started < 3000, `forwardOut took ${Date.now() - started} ms`);
		for (const socket of sockets) socket.destroy();
	});
});
