import {createWriteStream} from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type {Profile} from '../model/profile-schema.js';
import {fillTemplate, nodeVars, type NodePlan, type Plan} from '../model/plan.js';
import type {NodeSsh} from './ssh.js';
import {runStreamed} from './streamed-command.js';
import {shellQuote} from './shell-quote.js';
import {ProblemError} from '../model/field-error.js';

// Install methods, one node at a time (the engine runs nodes in parallel):
// push uploads the node's files over SFTP and runs the profile's commands;
// nixos-anywhere installs NixOS with the node's secrets as extra files.

export type InstallContext = {
	profile: Profile;
	plan: Plan;
	node: NodePlan;
	// Push installs through it; nixos-anywhere opens its own SSH sessions.
	ssh?: NodeSsh;
	signal?: AbortSignal;
	onLine: (line: string) => void;
	// The node's hosts file; tests that install onto this machine point it elsewhere.
	hostsFile?: string;
};

const COMMAND_TIMEOUT_MS = 5 * 60_000;
const HOSTS_BEGIN = '# BEGIN plasma-tui';
const HOSTS_END = '# END plasma-tui';

export {shellQuote};

export function commandVariables(plan: Plan, node: NodePlan, profile: Profile): Record<string, string> {
	const controlPlane = plan.nodes.filter(n => n.role === 'control-plane');
	return {
		...Object.fromEntries(Object.entries(nodeVars(node, profile)).map(([name, value]) => [name, String(value)])),
		secretsDir: node.secrets.remoteDir,
		ca: node.secrets.remoteCa,
		cert: node.secrets.remoteCert,
		key: node.secrets.remoteKey,
		etcdInitialCluster: controlPlane.map(n => `${n.name}=https://${n.hostname}:2380`).join(','),
	};
}

// A NUL cannot be quoted: the remote shell would silently cut the command there.
export function renderCommand(template: string, variables: Record<string, string>): string {
	for (const [name, value] of Object.entries(variables)) {
		if (value.includes('\0') && template.includes(`{${name}}`)) throw new ProblemError({message: `{${name}} contains a NUL byte and cannot be passed to a shell`, fix: 'remove it from the profile'});
	}
	return fillTemplate(template, Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, shellQuote(value)])));
}

// The cluster block in /etc/hosts is replaced, never appended twice. Lines
// outside it that give a cluster hostname another address (a distro's
// "127.0.1.1 node01") lose that name: etcd would otherwise advertise loopback.
export function mergeHosts(current: string, block: string): string {
	const begin = current.indexOf(HOSTS_BEGIN);
	const end = current.indexOf(HOSTS_END);
	const without = begin >= 0 && end > begin ? current.slice(0, begin) + current.slice(end + HOSTS_END.length).replace(/^\n/, '') : current;
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

async function installPush(ctx: InstallContext, say: (line: string) => void): Promise<void> {
	const {ssh, node, plan, profile} = ctx;
	if (!ssh) throw new ProblemError({message: `${node.name}: a push install needs an SSH connection to the node`});
	const hostsFile = ctx.hostsFile ?? '/etc/hosts';
	const uploads: Array<[string, string, number]> = [
		[node.secrets.ca, node.secrets.remoteCa, 0o644],
		[node.secrets.cert, node.secrets.remoteCert, 0o644],
		[node.secrets.key, node.secrets.remoteKey, 0o400],
		[node.files.clusterConfig, path.posix.join(node.secrets.remoteDir, 'cluster-config.json'), 0o644],
		...profile.install.push.files.map((f): [string, string, number] => [path.resolve(f.src), f.dest, Number.parseInt(f.mode, 8)]),
	];
	for (const [local, remote, mode] of uploads) {
		ctx.signal?.throwIfAborted();
		await ssh.upload(local, remote, mode);
		say(`uploaded ${path.basename(local)} -> ${remote} (${mode.toString(8).padStart(4, '0')})`);
	}
	const chmod = await ssh.exec(`chmod 700 ${shellQuote(node.secrets.remoteDir)}`, {timeoutMs: 30_000});
	if (chmod.code !== 0) throw new ProblemError({message: `chmod of ${node.secrets.remoteDir} failed: ${chmod.stderr.trim()}`});
	const hosts = await ssh.exec(`cat ${shellQuote(hostsFile)}`, {timeoutMs: 30_000});
	await ssh.writeFile(hostsFile, mergeHosts(hosts.code === 0 ? hosts.stdout : '', await fs.readFile(node.files.hosts, 'utf8')), 0o644);
	say(`${hostsFile}: ${plan.nodes.length} cluster entries`);

	const variables = commandVariables(plan, node, profile);
	for (const [index, template] of profile.install.push.commands.entries()) {
		ctx.signal?.throwIfAborted();
		const command = renderCommand(template, variables);
		say(`$ ${command.length > 160 ? `${command.slice(0, 157)}...` : command}`);
		const result = await ssh.exec(command, {timeoutMs: COMMAND_TIMEOUT_MS, signal: ctx.signal, onLine: line => say(line)});
		if (result.code !== 0) {
			const stderr = result.stderr.trim().split('\n').slice(-5).join(' | ');
			throw new ProblemError({message: `install.push.commands[${index}] exited ${result.code ?? result.signal}: ${stderr || result.stdout.trim().split('\n').slice(-3).join(' | ') || 'no output'}`});
		}
	}
}

// After its kexec step nixos-anywhere reconnects on --post-kexec-ssh-port
// (default 22): without it, it would reach this host's own sshd instead of the
// node behind the forwarded port.
export function nixosAnywhereArgs(profile: Profile, plan: Plan, node: NodePlan, extraFilesDir: string): string[] {
	const {flake, extraArgs} = profile.install.nixosAnywhere;
	const port = String(node.sshPort);
	return ['--flake', `${flake}#${node.name}`, '--extra-files', extraFilesDir, '-p', port, '--post-kexec-ssh-port', port, '-i', plan.ssh.privateKey, ...extraArgs, `${plan.ssh.user}@127.0.0.1`];
}

// The tree nixos-anywhere copies onto the installed system: the node's secrets
// where its configuration expects them, and its pinned SSH host key, so the
// installed node answers with the key the profile already trusts. nixos-anywhere
// untars it over the new root keeping modes, so every directory on the way is
// 0755 like the real /, /etc and /etc/ssh (a 0700 mkdtemp root would become a
// 0700 / on the node); only the secrets directory itself is 0700.
export async function buildExtraFiles(node: NodePlan): Promise<string> {
	const root = await fs.mkdtemp(path.join(os.tmpdir(), `plasma-extra-${node.name}-`));
	await fs.chmod(root, 0o755);
	const secretsRel = node.secrets.remoteDir.replace(/^\/+/, '');
	await makeDirs(root, secretsRel, 0o700);
	await makeDirs(root, 'etc/ssh', 0o755);
	const secrets = path.join(root, secretsRel);
	const copies: Array<[string, string, number]> = [
		[node.secrets.ca, path.join(secrets, node.secrets.caName), 0o644],
		[node.secrets.cert, path.join(secrets, node.secrets.certName), 0o644],
		[node.secrets.key, path.join(secrets, node.secrets.keyName), 0o400],
		[node.files.clusterConfig, path.join(secrets, 'cluster-config.json'), 0o644],
		[node.files.hostKey, path.join(root, 'etc/ssh/ssh_host_ed25519_key'), 0o600],
		[node.files.hostKeyPub, path.join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), 0o644],
	];
	for (const [from, to, mode] of copies) {
		await fs.copyFile(from, to);
		await fs.chmod(to, mode);
	}
	return root;
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

async function installNixosAnywhere(ctx: InstallContext, say: (line: string) => void): Promise<void> {
	const extra = await buildExtraFiles(ctx.node);
	try {
		const args = nixosAnywhereArgs(ctx.profile, ctx.plan, ctx.node, extra);
		say(`$ nixos-anywhere ${args.join(' ')}`);
		const result = await runStreamed('nixos-anywhere', args, {timeoutMs: ctx.profile.install.timeoutSec * 1000, signal: ctx.signal, onLine: say});
		if (result.notFound) throw new ProblemError({message: 'nixos-anywhere is not on the PATH', fix: 'nix profile install github:nix-community/nixos-anywhere'});
		if (!result.ok) throw new ProblemError({message: `nixos-anywhere ${result.why}; last lines: ${result.lastLines.slice(-5).join(' | ') || 'no output'}`});
	} finally {
		await fs.rm(extra, {recursive: true, force: true});
	}
}

export async function installNode(ctx: InstallContext): Promise<void> {
	await fs.mkdir(path.dirname(ctx.node.runtime.installLog), {recursive: true, mode: 0o700});
	const logFile = createWriteStream(ctx.node.runtime.installLog, {flags: 'a', mode: 0o600});
	const say = (line: string) => {
		logFile.write(`${line}\n`);
		ctx.onLine(line);
	};
	try {
		if (ctx.profile.install.method === 'push') await installPush(ctx, say);
		else if (ctx.profile.install.method === 'nixos-anywhere') await installNixosAnywhere(ctx, say);
	} catch (error) {
		say(`install failed: ${(error as Error).message}`);
		throw error;
	} finally {
		await new Promise(resolve => logFile.end(resolve));
	}
}
