import {rmSync} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type {NodePlan, Plan} from '../model/plan.js';
import {ensureUsableDir, ensureWorkDirs, openOwnFile} from './owned-dir.js';
import {confirmHostKey, type NodeSsh} from './ssh.js';
import {runStreamed, type ChildRecord} from './streamed-command.js';
import {shellQuote} from './shell-quote.js';
import {ProblemError} from '../model/field-error.js';
import {failureReason} from '../model/failure-reason.js';

// Install methods, one node at a time (the engine runs nodes in parallel):
// push uploads the node's files (one SFTP session, or exec) and runs the commands the plan
// filled in; nixos-anywhere runs with the plan's argv and the node's secrets
// as extra files.

export type InstallContext = {
	plan: Plan;
	node: NodePlan;
	// Push installs through it; nixos-anywhere opens its own SSH sessions.
	ssh?: NodeSsh;
	signal?: AbortSignal;
	// Fires when the node's QEMU exits: nixos-anywhere is stopped at once.
	nodeGone?: AbortSignal;
	// The node's QEMU: its forwarded port must still be its own when nixos-anywhere starts.
	qemuPid?: number;
	onLine: (line: string) => void;
	// The node's hosts file; tests that install onto this machine point it elsewhere.
	hostsFile?: string;
	// The run's state file: nixos-anywhere is recorded in it while it runs, so `down` can stop it.
	state?: ChildRecord['state'];
};

const COMMAND_TIMEOUT_MS = 5 * 60_000;
const HOSTS_BEGIN = '# BEGIN plasma-tui';
const HOSTS_END = '# END plasma-tui';

// The cluster block in /etc/hosts is replaced, never appended twice. Lines
// outside it that give a cluster hostname another address (a distro's
// "127.0.1.1 node01") lose that name: etcd would otherwise advertise loopback.
export function mergeHosts(current: string, block: string): string {
	const without = withoutHostsBlock(current);
	const planned = new Map<string, string>();
	for (const line of block.split('\n')) {
		const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
		if (address) for (const name of names) planned.set(name.toLowerCase(), address);
	}
	const kept = without.split('\n').flatMap(line => {
		const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
		if (!address || names.length === 0) return [line];
		const remaining = names.filter(name => (planned.get(name.toLowerCase()) ?? address) === address);
		if (remaining.length === names.length) return [line];
		return remaining.length > 0 ? [`${address} ${remaining.join(' ')}`] : [];
	});
	const head = kept.join('\n').replace(/\n*$/, '');
	return `${head ? `${head}\n` : ''}${HOSTS_BEGIN}\n${block.trimEnd()}\n${HOSTS_END}\n`;
}

async function readHosts(ssh: NodeSsh, hostsFile: string): Promise<string> {
	const hosts = await ssh.exec(`cat ${shellQuote(hostsFile)}`, {timeoutMs: 30_000});
	return hosts.code === 0 ? hosts.stdout : '';
}

// A running node's cluster block replaced with the plan's (a node joined or left); the rest of its hosts file kept.
export async function pushHostsFile(ssh: NodeSsh, node: NodePlan, hostsFile = '/etc/hosts'): Promise<void> {
	const merged = mergeHosts(await readHosts(ssh, hostsFile), await fs.readFile(node.files.hosts, 'utf8'));
	await ssh.writeFile(hostsFile, merged, 0o644);
}

// What `down` leaves of /etc/hosts on an existing machine: everything but the cluster block.
export function withoutHostsBlock(current: string): string {
	const begin = current.indexOf(HOSTS_BEGIN);
	const end = current.indexOf(HOSTS_END);
	return begin >= 0 && end > begin ? current.slice(0, begin) + current.slice(end + HOSTS_END.length).replace(/^\n/, '') : current;
}

async function installPush(ctx: InstallContext, install: Extract<NodePlan['install'], {method: 'push'}>, say: (line: string) => void): Promise<void> {
	const {ssh, node, plan} = ctx;
	if (!ssh) throw new ProblemError({message: `${node.name}: a push install needs an SSH connection to the node`});
	const hostsFile = ctx.hostsFile ?? '/etc/hosts';
	const hosts = await readHosts(ssh, hostsFile);
	// All uploads, the hosts file too, through one SFTP session (or exec without an sftp-server).
	const files = await ssh.openFiles();
	say(`uploads via ${files.via}`);
	try {
		for (const {local, remote, mode} of install.uploads) {
			ctx.signal?.throwIfAborted();
			await files.upload(local, remote, mode);
			say(`uploaded ${path.basename(local)} -> ${remote} (${mode.toString(8).padStart(4, '0')})`);
		}
		await files.writeFile(hostsFile, mergeHosts(hosts, await fs.readFile(node.files.hosts, 'utf8')), 0o644);
	} finally {
		files.close();
	}
	const chmod = await ssh.exec(`chmod 700 ${shellQuote(node.secrets.remoteDir)}`, {timeoutMs: 30_000});
	if (chmod.code !== 0) throw new ProblemError({message: `chmod of ${node.secrets.remoteDir} failed: ${chmod.stderr.trim()}`});
	say(`${hostsFile}: ${plan.nodes.length} cluster entries`);

	for (const [index, command] of install.commands.entries()) {
		ctx.signal?.throwIfAborted();
		say(`$ ${command.length > 160 ? `${command.slice(0, 157)}...` : command}`);
		const result = await ssh.exec(command, {timeoutMs: COMMAND_TIMEOUT_MS, signal: ctx.signal, onLine: line => say(line)});
		// The cause first (stderr's last line at error level), not the first thing the command logged.
		if (result.code !== 0) throw new ProblemError({message: `${install.commandFields[index] ?? `install.push.commands[${index}]`} exited ${result.code ?? result.signal}: ${failureReason(result)}`});
	}
}

// The tree nixos-anywhere copies onto the installed system: the node's secrets
// where its configuration expects them, and its pinned SSH host key, so the
// installed node answers with the key the profile already trusts. nixos-anywhere
// untars it over the new root keeping modes, so every directory on the way is
// 0755 like the real /, /etc and /etc/ssh (a 0700 root would become a 0700 / on
// the node); only the secrets directory itself is 0700. The tree sits in a 0700
// staging directory of its own (the plan's extraFilesDir, in the node's
// directory), rebuilt from scratch, so a leftover from an interrupted run never
// leaks into it and nobody else can read the keys while it exists.
export async function buildExtraFiles(node: NodePlan, install: {extraFilesDir: string; extraFilesRoot: string}): Promise<void> {
	const staging = install.extraFilesDir;
	await ensureUsableDir(path.dirname(staging));
	await fs.rm(staging, {recursive: true, force: true});
	await fs.mkdir(staging, {mode: 0o700});
	await fs.chmod(staging, 0o700);
	const root = install.extraFilesRoot;
	await fs.mkdir(root, {recursive: true});
	await fs.chmod(root, 0o755);
	await makeDirs(root, node.secrets.remoteDir.replace(/^\/+/, ''), 0o700);
	await makeDirs(root, 'etc/ssh', 0o755);
	const onNode = (remote: string) => path.join(root, remote);
	const copies: Array<[string, string, number]> = [
		[node.secrets.ca, onNode(node.secrets.remoteCa), 0o644],
		[node.secrets.cert, onNode(node.secrets.remoteCert), 0o644],
		[node.secrets.key, onNode(node.secrets.remoteKey), 0o400],
		[node.files.clusterConfig, onNode(node.secrets.remoteClusterConfig), 0o644],
		[node.files.hostKey, onNode('/etc/ssh/ssh_host_ed25519_key'), 0o600],
		[node.files.hostKeyPub, onNode('/etc/ssh/ssh_host_ed25519_key.pub'), 0o644],
	];
	for (const [from, to, mode] of copies) {
		await fs.copyFile(from, to);
		await fs.chmod(to, mode);
	}
}

// Each missing directory of `relative` under root: 0755, the last one `mode`.
async function makeDirs(root: string, relative: string, mode: number): Promise<void> {
	const parts = relative.split('/').filter(Boolean);
	for (let index = 0; index < parts.length; index++) {
		const dir = path.join(root, ...parts.slice(0, index + 1));
		await fs.mkdir(dir).catch((error: NodeJS.ErrnoException) => {
			if (error.code !== 'EEXIST') throw error;
		});
		await fs.chmod(dir, index === parts.length - 1 ? mode : 0o755);
	}
}

async function installNixosAnywhere(ctx: InstallContext, install: Extract<NodePlan['install'], {method: 'nixos-anywhere'}>, say: (line: string) => void): Promise<void> {
	const gone = () => new ProblemError({message: `${ctx.node.name}: nixos-anywhere not started or stopped: the node's QEMU exited`});
	if (ctx.nodeGone?.aborted) throw gone();
	// The keys leave with the install on every path: done, failed, cancelled, and a
	// process.exit on the way (a signal's time limit); only a SIGKILL leaves them, for `down`.
	const removeStaging = () => rmSync(install.extraFilesDir, {recursive: true, force: true});
	process.once('exit', removeStaging);
	try {
		await buildExtraFiles(ctx.node, install);
		ctx.signal?.throwIfAborted();
		// nixos-anywhere checks no host key of its own sessions: the node must still
		// present its session's key, on the port its QEMU holds, right before it starts.
		if (ctx.ssh) await confirmHostKey(ctx.ssh, {qemuPid: ctx.qemuPid, timeoutMs: 10_000, signal: ctx.signal});
		if (ctx.nodeGone?.aborted) throw gone();
		say(`$ ${install.command === 'nixos-anywhere' ? 'nixos-anywhere' : `nixos-anywhere (${install.command})`} ${install.argv.join(' ')}`);
		const signals = [ctx.signal, ctx.nodeGone].filter((signal): signal is AbortSignal => signal !== undefined);
		const record = ctx.state ? {state: ctx.state, kind: 'nixos-anywhere' as const, node: ctx.node.name} : undefined;
		const result = await runStreamed(install.command, install.argv, {timeoutMs: install.timeoutSec * 1000, signal: signals.length > 0 ? AbortSignal.any(signals) : undefined, onLine: say, record});
		if (result.notFound && install.command !== 'nixos-anywhere') throw new ProblemError({field: 'install.nixosAnywhere.command', message: `${install.command} is not there or not executable`, fix: 'give the path of a program that takes nixos-anywhere\'s arguments, or remove the setting to run nixos-anywhere'});
		if (result.notFound) throw new ProblemError({message: 'nixos-anywhere is not on the PATH', fix: 'nix profile install github:nix-community/nixos-anywhere'});
		if (!result.ok && ctx.nodeGone?.aborted && !ctx.signal?.aborted) throw new ProblemError({message: `nixos-anywhere stopped: ${ctx.node.name}'s QEMU exited; last lines: ${result.lastLines.slice(-5).join(' | ') || 'no output'}`});
		if (!result.ok) throw new ProblemError({message: `nixos-anywhere ${result.why}; last lines: ${result.lastLines.slice(-5).join(' | ') || 'no output'}`});
	} finally {
		process.removeListener('exit', removeStaging);
		await fs.rm(install.extraFilesDir, {recursive: true, force: true});
	}
}

export async function installNode(ctx: InstallContext): Promise<void> {
	await ensureWorkDirs(ctx.plan.workDir, [path.dirname(ctx.node.runtime.installLog)]);
	const logFile = (await openOwnFile(ctx.node.runtime.installLog, 'append')).createWriteStream();
	const say = (line: string) => {
		logFile.write(`${line}\n`);
		ctx.onLine(line);
	};
	try {
		const {install} = ctx.node;
		if (install.method === 'push') await installPush(ctx, install, say);
		else if (install.method === 'nixos-anywhere') await installNixosAnywhere(ctx, install, say);
	} catch (error) {
		say(`install failed: ${(error as Error).message}`);
		throw error;
	} finally {
		await new Promise(resolve => logFile.end(resolve));
	}
}
