import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {execa} from 'execa';
import ssh2 from 'ssh2';
import {ensureDemoImage} from '../../source/services/image.js';
import {toolPaths} from '../../source/services/paths.js';
import {tempDir} from '../helpers.js';
import {vmSkip} from './vm-helpers.js';

const skip = await vmSkip();

const {Client} = ssh2;

// One real demo VM under TCG, user-mode NIC only plus a socket NIC carrying
// the cluster MAC: the guest must find that NIC by MAC, take the IP, the
// hostname, the authorized key and the host key from the command line / fw_cfg.

const home = tempDir('plasma-image-');
process.env['PLASMA_TUI_HOME'] = home;
// The image is cached machine-wide (built once), as in the boot test.
const imageDir = toolPaths({...process.env, PLASMA_TUI_HOME: undefined}).imageDir;
const pidFile = path.join(home, 'qemu.pid');
const consoleLog = path.join(home, 'console.log');
const hostname = 'imgtest-1';
const ip = '10.77.0.11';
const mac = '52:54:00:77:00:11';

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const {port} = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

function qemuPid(): number | undefined {
	const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : '';
	return text ? Number(text) : undefined;
}

after(async () => {
	const pid = qemuPid();
	if (pid && alive(pid)) {
		process.kill(pid, 'SIGKILL');
		for (let i = 0; i < 50 && alive(pid); i++) await new Promise(resolve => setTimeout(resolve, 100));
	}
	fs.rmSync(home, {recursive: true, force: true});
});

type Session = {exec: (command: string) => Promise<{code: number; stdout: string}>; hostKey: Buffer; end: () => void};

function connect(port: number, privateKey: string): Promise<Session> {
	return new Promise((resolve, reject) => {
		const client = new Client();
		let hostKey: Buffer = Buffer.alloc(0);
		client.on('error', reject);
		client.on('ready', () => {
			resolve({
				hostKey,
				end: () => client.end(),
				exec: command =>
					new Promise((done, fail) => {
						client.exec(command, (error, stream) => {
							if (error) return fail(error);
							let stdout = '';
							stream.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
							stream.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
							stream.on('close', (code: number) => done({code, stdout}));
						});
					}),
			});
		});
		client.connect({
			host: '127.0.0.1',
			port,
			username: 'root',
			privateKey,
			readyTimeout: 60_000,
			hostVerifier: (key: Buffer) => {
				hostKey = key;
				return true;
			},
		});
	});
}

test('the demo image boots under TCG, takes its identity from cmdline and fw_cfg, and runs sshd, etcd and svc', {timeout: 900_000, skip}, async () => {
	const image = await ensureDemoImage(imageDir, {});
	assert.ok(fs.statSync(image.kernel).size > 1_000_000);

	await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-client', '-f', path.join(home, 'client')]);
	await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-host', '-f', path.join(home, 'host')]);
	const hostPub = fs.readFileSync(path.join(home, 'host.pub'), 'utf8').split(' ');
	const port = await freePort();
	const started = Date.now();
	await execa('qemu-system-x86_64', [
		'-machine', 'q35', '-accel', 'tcg', '-m', '512', '-smp', '1', '-display', 'none', '-daemonize', '-pidfile', pidFile,
		'-kernel', image.kernel, '-initrd', image.initrd,
		'-append', `console=ttyS0 quiet plasma.hostname=${hostname} plasma.ip=${ip}/24 plasma.mac=${mac}`,
		// The cluster NIC: a listening socket netdev nobody joins, enough for the guest to see the MAC.
		'-netdev', `socket,id=cluster,listen=127.0.0.1:${await freePort()}`, '-device', `virtio-net-pci,netdev=cluster,mac=${mac}`,
		'-netdev', `user,id=user,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`, '-device', 'virtio-net-pci,netdev=user',
		'-chardev', `file,id=serial,path=${consoleLog}`, '-serial', 'chardev:serial',
		'-fw_cfg', `name=opt/plasma/authorized_keys,file=${path.join(home, 'client.pub')}`,
		'-fw_cfg', `name=opt/plasma/ssh_host_ed25519_key,file=${path.join(home, 'host')}`,
	]);
	assert.ok(qemuPid() && alive(qemuPid()!), 'qemu is running');

	const deadline = Date.now() + 120_000;
	let log = '';
	while (!log.includes('plasma-ready') && Date.now() < deadline) {
		await new Promise(resolve => setTimeout(resolve, 250));
		log = fs.existsSync(consoleLog) ? fs.readFileSync(consoleLog, 'utf8') : '';
	}
	assert.ok(log.includes('plasma-ready'), `waited 120 s for "plasma-ready" in ${consoleLog}; it holds:\n${log.slice(-2000)}`);
	console.log(`# ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
	assert.match(log, new RegExp(`plasma-ready ${hostname} ${ip.replaceAll('.', '\\.')}`));

	const session = await connect(port, fs.readFileSync(path.join(home, 'client'), 'utf8'));
	try {
		assert.equal(session.hostKey.toString('base64'), hostPub[1], 'host key presented equals the one passed through fw_cfg');
		assert.equal((await session.exec('hostname')).stdout.trim(), hostname);
		const addr = await session.exec(`ip -o addr show | grep ' ${ip}/24 '; cat /sys/class/net/*/address`);
		assert.equal(addr.code, 0, addr.stdout);
		assert.ok(addr.stdout.includes(mac), addr.stdout);
		// A connection is served by a fork of sshd's listener, not a re-executed sshd: a TCG guest
		// translates a re-executed (randomly placed) sshd and its libraries again on every connection.
		const maps = await session.exec(`listener=$(ps -o pid,args | awk '/sshd.*\\[listener\\]/ && !/awk/ {print $1; exit}'); session=$PPID; for pid in $listener $session; do grep -m1 libcrypto /proc/$pid/maps | cut -d- -f1; done`);
		const [listenerBase, sessionBase] = maps.stdout.trim().split('\n');
		assert.ok(listenerBase && sessionBase, `libcrypto mappings of the sshd listener and this session: ${maps.stdout}`);
		assert.equal(sessionBase, listenerBase, 'the session sshd maps libcrypto where the listener does (forked, not re-executed)');
		const version = await session.exec('etcd --version');
		assert.equal(version.code, 0);
		assert.match(version.stdout, /etcd Version: 3\.4/);
		const svc = async (args: string, code: number) => {
			// A bare `svc` in busybox sh is busybox's runit applet: the image's helper is /sbin/svc.
			const result = await session.exec(`/sbin/svc ${args}`);
			assert.equal(result.code, code, `svc ${args}: ${result.stdout}`);
		};
		await svc('status sleeper', 3);
		await svc('start sleeper sleep 600', 0);
		await svc('status sleeper', 0);
		await svc('restart sleeper', 0);
		await svc('status sleeper', 0);
		await svc('stop sleeper', 0);
		await svc('status sleeper', 3);
		await svc('start etcd etcd --name n1 --data-dir /var/lib/etcd/n1 --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379', 0);
		const put = await session.exec('for i in $(seq 60); do etcdctl put plasma kept && exit 0; sleep 1; done; exit 1');
		assert.equal(put.code, 0, put.stdout);
		await svc('restart etcd', 0);
		const get = await session.exec('for i in $(seq 60); do etcdctl get --print-value-only plasma && exit 0; sleep 1; done; exit 1');
		assert.equal(get.code, 0, get.stdout);
		assert.match(get.stdout, /^kept$/m, 'etcd kept its data across svc restart');
		await svc('stop etcd', 0);
	} finally {
		session.end();
	}

	const pid = qemuPid()!;
	process.kill(pid, 'SIGTERM');
	for (let i = 0; i < 100 && alive(pid); i++) await new Promise(resolve => setTimeout(resolve, 100));
	assert.equal(alive(pid), false, 'qemu is gone');
});
