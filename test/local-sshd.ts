import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {hostTools, tempDir, type Prerequisite} from './helpers.js';
import type {Plan} from '../source/model/plan.js';
import {NodeSsh} from '../source/services/ssh.js';

// A real OpenSSH server on 127.0.0.1 for tests: its own host key, config,
// authorized keys and pid file in a temp dir; nothing of the host's sshd is
// read or changed (only /run/sshd, its privilege-separation dir, is created).

export const SSHD = '/usr/sbin/sshd';

export function sshdPrerequisites(): Promise<Prerequisite[]> {
	return hostTools({[SSHD]: 'openssh-server', 'ssh-keygen': 'openssh-client'});
}

export async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address() as net.AddressInfo;
	await new Promise(resolve => server.close(resolve));
	return port;
}

export async function hostKey(dir: string, name: string): Promise<{path: string; fingerprint: string}> {
	const file = path.join(dir, name);
	await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
	const listed = await execa('ssh-keygen', ['-l', '-f', `${file}.pub`]);
	return {path: file, fingerprint: listed.stdout.split(/\s+/)[1]!};
}

export type LocalSshd = {
	dir: string;
	port: number;
	user: string;
	hostKey: {path: string; fingerprint: string};
	log: () => string;
	stop: () => Promise<void>;
};

// Starts sshd on `port` and resolves once it listens. `authorizedKeys` is the
// text of its authorized_keys file.
export async function startSshd(options: {port: number; authorizedKeys: string; hostKey?: {path: string; fingerprint: string}; dir?: string}): Promise<LocalSshd> {
	const dir = options.dir ?? tempDir('plasma-sshd-');
	const key = options.hostKey ?? (await hostKey(dir, 'host_ed25519'));
	await fs.writeFile(path.join(dir, 'authorized_keys'), options.authorizedKeys, {mode: 0o600});
	const config = [
		`Port ${options.port}`,
		'ListenAddress 127.0.0.1',
		`HostKey ${key.path}`,
		`PidFile ${path.join(dir, `sshd-${options.port}.pid`)}`,
		`AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
		'StrictModes no',
		'UsePAM no',
		'PasswordAuthentication no',
		'KbdInteractiveAuthentication no',
		'PubkeyAuthentication yes',
		'PermitRootLogin prohibit-password',
		'AllowTcpForwarding yes',
		'Subsystem sftp internal-sftp',
		'LogLevel VERBOSE',
	].join('\n');
	const configFile = path.join(dir, 'sshd_config');
	await fs.writeFile(configFile, `${config}\n`);
	if (process.getuid?.() === 0) await fs.mkdir('/run/sshd', {recursive: true, mode: 0o755});

	const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', configFile], {stdio: ['ignore', 'ignore', 'pipe']});
	let output = '';
	const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`sshd did not listen within 10 s: ${output}`)), 10_000);
		child.stderr!.on('data', (chunk: Buffer) => {
			output += chunk.toString();
			if (/Server listening on 127\.0\.0\.1/.test(output)) {
				clearTimeout(timer);
				resolve();
			}
		});
		child.once('exit', code => {
			clearTimeout(timer);
			reject(new Error(`sshd exited ${code}: ${output}`));
		});
	});
	return {
		dir,
		port: options.port,
		user: os.userInfo().username,
		hostKey: key,
		log: () => output,
		stop: async () => {
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
			await exited;
		},
	};
}

// An sshd on 127.0.0.1 that lets the plan's key in, and one session to it as node01 (pinned in the plan's known_hosts).
export async function sshdForPlan(plan: Plan): Promise<{sshd: LocalSshd; ssh: NodeSsh}> {
	const sshd = await startSshd({port: await freePort(), authorizedKeys: await fs.readFile(plan.ssh.publicKey, 'utf8')});
	const ssh = await NodeSsh.connect(
		{node: 'node01', host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKeyPath: plan.ssh.privateKey, pinStorePath: plan.ssh.knownHosts},
		{timeoutMs: 10_000},
	);
	return {sshd, ssh};
}
