import {ProblemError} from './field-error.js';
import path from 'node:path';
import type {Profile, PushCommand} from './profile-schema.js';
import {forRole} from './node-role.js';
import {fieldError, type FieldError} from './field-error.js';
import {fillTemplate} from './template.js';
import {shellQuote} from './shell-quote.js';
import type {NodePlan} from './plan.js';
import {jumpAddress} from './ssh-hosts-jump.js';

// What installing one node means, decided before the run: the files a push
// uploads and its commands already filled in, or nixos-anywhere's exact argv.

export type PlannedUpload = {local: string; remote: string; mode: number};

export type NodeInstallPlan =
	| {method: 'none'}
	// commandFields[i] is the profile field commands[i] came from: a node skips other roles' commands.
	| {method: 'push'; uploads: PlannedUpload[]; commands: string[]; commandFields: string[]}
	// extraFilesDir: the 0700 staging directory (removed after the install and by `down`);
	// extraFilesRoot: the tree inside it that nixos-anywhere copies over the new root (0755, like /).
	// command: the program run with argv (install.nixosAnywhere.command). reboot: what the node is after
	// the install's reboot, known before it starts: the key it must present (the extra files' host key),
	// and whether the engine starts its QEMU again with qemuArgsInstalled (the firmware boots the disk).
	| {method: 'nixos-anywhere'; command: string; extraFilesDir: string; extraFilesRoot: string; argv: string[]; timeoutSec: number; reboot: NixosAnywhereReboot};

export type NixosAnywhereReboot = {hostKeyPub: string; restartsQemu: boolean};

// The node values install needs, as the plan decided them.
type InstallNode = Pick<NodePlan, 'name' | 'role' | 'dir' | 'sshPort' | 'secrets' | 'files' | 'sshHost'>;

// A name is looked up on the PATH; a path is taken from the current directory, like push files.
// `{package}/...` names a program shipped with plasma-tui (the stand-in of the demo-nixos-anywhere template).
export function nixosAnywhereCommand(command: string, packageRoot?: string): string {
	if (command.startsWith('{package}/') && packageRoot) return path.join(packageRoot, command.slice('{package}/'.length));
	return command.includes('/') ? path.resolve(command) : command;
}

// Only a VM this tool boots is started again: its first boot loads the netboot kernel, the installed one is the firmware's.
export function restartsIntoInstalled(profile: Pick<Profile, 'install' | 'boot' | 'target'>): boolean {
	return profile.install.method === 'nixos-anywhere' && profile.target.kind === 'qemu' && profile.boot.afterInstall === 'disk';
}

// The values push commands may use about etcd: the member list this node starts with, whether it
// bootstraps a new cluster or joins a running one (`new` | `existing`), and where the members serve clients.
export type EtcdPlan = {etcdInitialCluster: string; etcdEndpoints: string; etcdClusterState: 'new' | 'existing'};

// A NUL cannot be quoted: the remote shell would silently cut the command there.
export function renderCommand(template: string, variables: Record<string, string>): string {
	for (const [name, value] of Object.entries(variables)) {
		if (value.includes('\0') && template.includes(`{${name}}`)) throw new ProblemError({message: `{${name}} contains a NUL byte and cannot be passed to a shell`, fix: 'remove it from the profile'});
	}
	return fillTemplate(template, Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, shellQuote(value)])));
}

// The template variables of push commands: the node's own and where its secrets land.
export function commandVariables(vars: Record<string, string | number>, node: InstallNode, etcd: EtcdPlan): Record<string, string> {
	return {
		...Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, String(value)])),
		secretsDir: node.secrets.remoteDir,
		ca: node.secrets.remoteCa,
		cert: node.secrets.remoteCert,
		key: node.secrets.remoteKey,
		etcdInitialCluster: etcd.etcdInitialCluster,
		etcdEndpoints: etcd.etcdEndpoints,
		etcdClusterState: etcd.etcdClusterState,
	};
}

function commandText(command: PushCommand): string {
	return typeof command === 'string' ? command : command.run;
}

// The commands a node of this role runs, each with the profile field it came from.
export function commandsFor(commands: readonly PushCommand[], role: InstallNode['role']): Array<{template: string; field: string}> {
	return commands.flatMap((command, index) =>
		typeof command === 'string' || forRole(command.roles, role) ? [{template: commandText(command), field: `install.push.commands[${index}]`}] : [],
	);
}

// After its kexec step nixos-anywhere reconnects on --post-kexec-ssh-port
// (default 22): without it, it would reach this host's own sshd instead of the
// node behind the forwarded port.
function nixosAnywhereArgs(profile: Profile, ssh: {privateKey: string; user: string}, node: InstallNode, extraFilesDir: string): string[] {
	const {flake, extraArgs} = profile.install.nixosAnywhere;
	if (node.sshHost) return sshHostArgs(profile, ssh, node.sshHost, node.name, extraFilesDir);
	const port = String(node.sshPort);
	return ['--flake', `${flake}#${node.name}`, '--extra-files', extraFilesDir, '-p', port, '--post-kexec-ssh-port', port, '-i', ssh.privateKey, ...extraArgs, `${ssh.user}@127.0.0.1`];
}

// An existing machine: its own address and port, no forwarded port to come back to after kexec
// (the kexec image's sshd listens on the machine's port 22, nixos-anywhere's default). A bastion
// goes in as ProxyJump: nixos-anywhere hands --ssh-option to each ssh and to nix copy (NIX_SSHOPTS,
// split on spaces: a ProxyCommand would not survive). OpenSSH runs the hop with the operator's own
// ssh config: the bastion's key must be in ~/.ssh/known_hosts and the login key offered there.
function sshHostArgs(profile: Profile, ssh: {privateKey: string}, host: NonNullable<InstallNode['sshHost']>, name: string, extraFilesDir: string): string[] {
	const {flake, extraArgs} = profile.install.nixosAnywhere;
	const jump = host.jump ? ['--ssh-option', `ProxyJump=${jumpAddress(host.jump)}`] : [];
	return ['--flake', `${flake}#${name}`, '--extra-files', extraFilesDir, '-p', String(host.port), '-i', ssh.privateKey, ...jump, ...extraArgs, `${host.user}@${host.host}`];
}

// A command that cannot be filled (a NUL in a value) is a plan problem, not a crash.
export function installPlanFor(
	profile: Profile,
	node: InstallNode,
	context: {vars: Record<string, string | number>; ssh: {privateKey: string; user: string}; etcd: EtcdPlan; packageRoot?: string},
): {install: NodeInstallPlan; problems: FieldError[]} {
	const {method} = profile.install;
	const problems: FieldError[] = [];
	if (method === 'push') {
		const variables = commandVariables(context.vars, node, context.etcd);
		const uploads: PlannedUpload[] = [
			{local: node.secrets.ca, remote: node.secrets.remoteCa, mode: 0o644},
			{local: node.secrets.cert, remote: node.secrets.remoteCert, mode: 0o644},
			{local: node.secrets.key, remote: node.secrets.remoteKey, mode: 0o400},
			{local: node.files.clusterConfig, remote: node.secrets.remoteClusterConfig, mode: 0o644},
			...profile.install.push.files.filter(f => forRole(f.roles, node.role)).map(f => ({local: path.resolve(f.src), remote: f.dest, mode: Number.parseInt(f.mode, 8)})),
		];
		const planned = commandsFor(profile.install.push.commands, node.role);
		const commands = planned.map(({template, field}) => {
			try {
				return renderCommand(template, variables);
			} catch (error) {
				problems.push(fieldError(field, `${node.name}: ${(error as Error).message}`, 'remove the NUL byte from the profile value'));
				return '';
			}
		});
		return {install: {method, uploads, commands, commandFields: planned.map(c => c.field)}, problems};
	}
	if (method === 'nixos-anywhere') {
		const extraFilesDir = path.join(node.dir, 'extra-files');
		const extraFilesRoot = path.join(extraFilesDir, 'root');
		const argv = nixosAnywhereArgs(profile, context.ssh, node, extraFilesRoot);
		const reboot = {hostKeyPub: node.files.hostKeyPub, restartsQemu: restartsIntoInstalled(profile)};
		return {install: {method, command: nixosAnywhereCommand(profile.install.nixosAnywhere.command, context.packageRoot), extraFilesDir, extraFilesRoot, argv, timeoutSec: profile.install.timeoutSec, reboot}, problems};
	}
	return {install: {method: 'none'}, problems};
}
