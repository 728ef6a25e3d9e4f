import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, realpathSync} from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {hostTools, tempDir, type Prerequisite} from './helpers.js';
import type {LocalSshd} from './local-sshd.js';

// A real dropbear (Debian 12: 2022.83, the version with mkj/dropbear #321) on
// 127.0.0.1 for tests, like local-sshd.ts does for OpenSSH. Dropbear has no
// option for the authorized_keys file: it reads ~/.ssh/authorized_keys of the
// user from passwd. So it runs in its own mount namespace (unshare -m, private
// propagation: nothing reaches the host's mounts) where a temp dir is bound over
// the user's home. The same namespace can hide the sftp-server dropbear
// execs for the sftp subsystem (compiled-in path /usr/lib/sftp-server, on
// Debian a link into /usr/lib/openssh/), the way a busybox image has none.

export const DROPBEAR_SFTP_SERVER = '/usr/lib/sftp-server';

export async function dropbearPrerequisites(): Promise<Prerequisite[]> {
	const root: Prerequisite = {missing: process.getuid?.() === 0 ? false : 'not root (dropbear runs in a mount namespace with a temp home)', fix: 'run the tests as root'};
	return [root, ...(await hostTools({dropbear: 'dropbear-bin', dropbearkey: 'dropbear-bin', unshare: 'util-linux', mount: 'mount', [DROPBEAR_SFTP_SERVER]: 'openssh-sftp-server'}))];
}

export type LocalDropbear = LocalSshd & {
	// Ends every open connection (the processes dropbear forked for them), as a node's reboot or dropbear's abort would; dropbear keeps listening.
	dropConnections: () => Promise<void>;
};

// Mounts (arguments, never interpolated): $1 the temp home over $2 the user's
// home; $3 an empty dir over $4 the sftp-server's dir (both '' to keep it);
// then dropbear with the remaining arguments.
const IN_NAMESPACE = 'mount --bind "$1" "$2" || exit 97; if [ -n "$3" ]; then mount --bind "$3" "$4" || exit 98; fi; shift 4; exec dropbear "$@"';

export async function startDropbear(options: {port: number; authorizedKeys: string; sftp: boolean}): Promise<LocalDropbear> {
	const dir = tempDir('plasma-dropbear-');
	const home = path.join(dir, 'home');
	await fs.mkdir(path.join(home, '.ssh'), {recursive: true, mode: 0o700});
	await fs.writeFile(path.join(home, '.ssh', 'authorized_keys'), options.authorizedKeys, {mode: 0o600});
	const keyFile = path.join(dir, 'host_ed25519');
	await execa('dropbearkey', ['-t', 'ed25519', '-f', keyFile]);
	const printed = await execa('dropbearkey', ['-y', '-f', keyFile]);
	const fingerprint = /Fingerprint: (SHA256:\S+)/.exec(printed.stdout)?.[1];
	if (!fingerprint) throw new Error(`dropbearkey printed no SHA256 fingerprint: ${printed.stdout}`);

	// Without sftp: an empty dir over the real sftp-server's dir, so the
	// compiled-in path dangles and the subsystem's command is "not found".
	let hide = ['', ''];
	if (!options.sftp) {
		const serverDir = path.dirname(realpathSync(DROPBEAR_SFTP_SERVER));
		if (serverDir === path.dirname(DROPBEAR_SFTP_SERVER)) throw new Error(`${DROPBEAR_SFTP_SERVER} is not a link into its own directory; cannot hide it without hiding ${serverDir}`);
		const empty = path.join(dir, 'no-sftp-server');
		await fs.mkdir(empty);
		hide = [empty, serverDir];
	}
	const user = os.userInfo();
	const args = ['-F', '-E', '-s', '-p', `127.0.0.1:${options.port}`, '-r', keyFile, '-P', path.join(dir, 'dropbear.pid')];
	const child: ChildProcess = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', IN_NAMESPACE, 'sh', home, user.homedir, ...hide, ...args], {stdio: ['ignore', 'ignore', 'pipe']});
	let output = '';
	const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
	child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
	// Its log says "Not backgrounding" before it listens: wait for the port itself.
	const started = Date.now();
	while (!(await accepts(options.port))) {
		if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dropbear exited ${child.exitCode ?? child.signalCode}: ${output}`);
		if (Date.now() - started > 10_000) {
			child.kill('SIGTERM');
			throw new Error(`dropbear did not listen within 10 s: ${output}`);
		}
		await new Promise(resolve => setTimeout(resolve, 50));
	}
	return {
		dir,
		port: options.port,
		user: user.username,
		hostKey: {path: keyFile, fingerprint},
		log: () => output,
		dropConnections: async () => {
			const children = await childrenOf(child.pid!);
			for (const pid of children) process.kill(pid, 'SIGTERM');
			await Promise.all(children.map(pid => waitGone(pid)));
		},
		stop: async () => {
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
			await exited;
		},
	};
}

function accepts(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = net.connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

async function childrenOf(parent: number): Promise<number[]> {
	const pids: number[] = [];
	for (const entry of await fs.readdir('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
		// Fields after the command name (which may hold spaces): state, ppid, ...
		if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) pids.push(Number(entry));
	}
	return pids;
}

async function waitGone(pid: number): Promise<void> {
	for (let waited = 0; existsSync(`/proc/${pid}`) && waited < 5000; waited += 20) await new Promise(resolve => setTimeout(resolve, 20));
}
