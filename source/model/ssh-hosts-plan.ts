import type {Profile} from './profile-schema.js';
import {fieldError, type FieldError} from './field-error.js';
import {commandsFor, commandVariables, renderCommand} from './install-plan.js';
import {stagesFor, type StageName} from './stages.js';
import type {NodePlan, Plan, PlannedThing} from './plan.js';
import {jumpAddress, type SshJump} from './ssh-hosts-jump.js';

// The plan of a profile whose target is machines that already exist (target
// ssh-hosts): no QEMU, switch, image, MACs, forwarded ports or disks. What
// stays is everything after boot: certificates, the install, the checks.

export type PlanTarget =
	| {kind: 'qemu'}
	| {kind: 'ssh-hosts'; connectTimeoutSec: number; minFreeDiskMiB: number; consoleLog?: string};

// How one machine is reached, directly or through a bastion (`jump`, its user filled in).
export type SshHost = {host: string; port: number; user: string; jump?: SshJump};

// What `down` does on a machine: the profile's uninstall commands (filled in
// like the install's), then the files the push put there are removed.
export type NodeUninstallPlan = {commands: string[]; commandFields: string[]; removeFiles: string[]; removeDirs: string[]};

// user@host:port, and the bastion it goes through: how a machine is named to the operator.
export function sshHostAddress(host: SshHost): string {
	return `${host.user}@${host.host}:${host.port}${host.jump ? ` via ${jumpAddress(host.jump)}` : ''}`;
}

export function planTarget(profile: Profile): PlanTarget {
	return profile.target.kind === 'qemu' ? {kind: 'qemu'} : {...profile.target};
}

export function sshHostOf(profile: Profile, index: number): SshHost | undefined {
	const spec = profile.nodes[index];
	if (profile.target.kind !== 'ssh-hosts' || !spec?.ssh) return undefined;
	const user = spec.ssh.user ?? profile.ssh.user;
	const jump = spec.ssh.jump ? {...spec.ssh.jump, user: spec.ssh.jump.user ?? user} : undefined;
	return {host: spec.ssh.host, port: spec.ssh.port, user, ...(jump ? {jump} : {})};
}

export function describeSshHostKey(node: Pick<NodePlan, 'pinnedHostKey' | 'sshHost'>, knownHosts: string): string {
	const where = node.sshHost ? `${node.sshHost.host}:${node.sshHost.port}` : 'the host';
	return node.pinnedHostKey
		? `host key: ${node.pinnedHostKey} (ssh.hostKeys in the profile), in every phase`
		: `host key: none pinned for ${where}: up refuses it unless ${knownHosts} has it or --accept-new-host-keys pins the first key seen (and prints it)`;
}

// The stages of a run on existing machines: nothing to build or boot.
export function sshHostsStages(profile: Profile): StageName[] {
	return stagesFor(profile, {nixBuild: false}).filter(stage => stage !== 'image' && stage !== 'nix build' && stage !== 'boot');
}

export function uninstallPlanFor(profile: Profile, node: NodePlan, plan: Pick<Plan, 'cluster' | 'etcdInitialCluster' | 'etcdEndpoints'>, vars: Record<string, string | number>): {uninstall: NodeUninstallPlan; problems: FieldError[]} {
	const problems: FieldError[] = [];
	const variables = commandVariables(vars, node, {etcdInitialCluster: node.etcd.initialCluster, etcdEndpoints: plan.etcdEndpoints, etcdClusterState: node.etcd.clusterState});
	const planned = commandsFor(profile.install.push.uninstall, node.role).map(c => ({...c, field: c.field.replace('.commands[', '.uninstall[')}));
	const commands = planned.map(({template, field}) => {
		try {
			return renderCommand(template, variables);
		} catch (error) {
			problems.push(fieldError(field, `${node.name}: ${(error as Error).message}`, 'remove the NUL byte from the profile value'));
			return '';
		}
	});
	const pushed = node.install.method === 'push' ? node.install.uploads.map(u => u.remote) : [];
	// The secrets directory goes whole (it is the tool's); other pushed files one by one.
	const removeFiles = pushed.filter(file => !file.startsWith(`${node.secrets.remoteDir}/`));
	return {uninstall: {commands, commandFields: planned.map(c => c.field), removeFiles, removeDirs: [node.secrets.remoteDir]}, problems};
}

const MIN_INSTALL_DISK_GIB = 2;

// nixos-anywhere erases the machine's disk: never without the profile saying so, and only the disk it names.
function wipeProblems(profile: Profile): FieldError[] {
	if (profile.install.method !== 'nixos-anywhere') return [];
	const problems: FieldError[] = [];
	if (profile.install.nixosAnywhere.allowWipe !== true) {
		problems.push(fieldError('install.nixosAnywhere.allowWipe', `nixos-anywhere erases the install disk of ${profile.nodes.length} existing machine(s) (${profile.nodes.map(n => n.name).join(', ')}); refusing without an explicit allowWipe`, 'set install.nixosAnywhere.allowWipe to true once every nodes[].installDisk names the disk to erase, or use install.method push'));
	}
	profile.nodes.forEach((node, index) => {
		if (!node.installDisk) problems.push(fieldError(`nodes[${index}].installDisk`, `${node.name}: nixos-anywhere on an existing machine needs the disk it erases`, 'set it to a stable name, e.g. /dev/disk/by-id/nvme-Samsung_SSD_980_S64...'));
		// The disk layout (disko.nix) gives the root file system a share of it: no guess from the VM defaults.
		if (node.diskGiB === undefined) problems.push(fieldError(`nodes[${index}].diskGiB`, `${node.name}: the disk layout needs the size of its install disk`, `set it to the size of ${node.installDisk ?? 'nodes[].installDisk'} in GiB (lsblk -d -o NAME,SIZE on the machine); preflight checks the disk is at least that big`));
		else if (node.diskGiB < MIN_INSTALL_DISK_GIB) problems.push(fieldError(`nodes[${index}].diskGiB`, `${node.name}: ${node.diskGiB} GiB cannot hold the layout (512 MiB ESP, a root of at least 1 GiB, a data partition)`, `use a disk of at least ${MIN_INSTALL_DISK_GIB} GiB`));
	});
	return problems;
}

function sshHostsThings(plan: Plan, ownKey: boolean): PlannedThing[] {
	const things: PlannedThing[] = [
		{kind: 'dir', path: plan.workDir, note: 'work directory'},
		...(ownKey ? [{kind: 'secret', path: plan.ssh.privateKey, note: 'SSH key for the machines (0600), created if absent: authorize its .pub on each'} satisfies PlannedThing] : []),
		{kind: 'file', path: plan.ssh.knownHosts, note: 'host keys accepted with --accept-new-host-keys'},
		{kind: 'file', path: plan.tls.caCert, note: plan.tls.reuseExisting ? 'existing CA certificate (reused)' : 'CA certificate (reused if valid)'},
		{kind: 'secret', path: plan.tls.caKey, note: plan.tls.reuseExisting ? 'existing CA key (reused, never copied to nodes)' : 'CA key (0400)'},
		{kind: 'file', path: plan.stateFile, note: 'state: what the install put on each machine'},
		{kind: 'file', path: plan.lockFile, note: 'held while up, down, certs or validate runs'},
		{kind: 'file', path: plan.timelineFile, note: 'timeline, one JSON line per event'},
	];
	for (const node of plan.nodes) {
		const where = node.sshHost ? sshHostAddress(node.sshHost) : '?';
		things.push(
			{kind: 'file', path: node.secrets.cert, note: `${node.name}: certificate for ${node.hostname}, ${node.fqdn}, ${node.ip} (0644)`},
			{kind: 'secret', path: node.secrets.key, note: `${node.name}: private key (0400)`},
			{kind: 'file', path: node.files.clusterConfig, note: `${node.name}: cluster config`},
			{kind: 'file', path: node.files.hosts, note: `${node.name}: hosts entries for every node`},
			{kind: 'port', path: where, note: `${node.name}: an existing machine, cluster IP ${node.ip}; its secrets go to ${node.secrets.remoteDir}`},
		);
	}
	return things;
}

// Applied last by buildPlan: a qemu profile's plan is returned as it is.
export function forSshHosts(plan: Plan, profile: Profile, varsOf: (node: NodePlan) => Record<string, string | number>): Plan {
	if (profile.target.kind !== 'ssh-hosts') return plan;
	const problems: FieldError[] = [...wipeProblems(profile)];
	const nodes = plan.nodes.map((node): NodePlan => {
		const sshPort = node.sshHost?.port ?? node.sshPort;
		const hostNode: NodePlan = {
			...node,
			mac: '',
			sshPort,
			qemuArgs: [],
			disk: {path: '', sizeGiB: 0},
			append: '',
			hostKey: {policy: 'first-use', expect: describeSshHostKey(node, plan.ssh.knownHosts)},
		};
		const {uninstall, problems: uninstallProblems} = uninstallPlanFor(profile, hostNode, plan, varsOf({...hostNode}));
		problems.push(...uninstallProblems);
		return {...hostNode, uninstall};
	});
	const hostsPlan: Plan = {
		...plan,
		accel: 'tcg',
		accelNote: 'none: existing machines (target ssh-hosts)',
		// Preflight's checks on the host running QEMU do not apply; the machines' own are run instead.
		ssh: {...plan.ssh, hostKeyPolicy: 'first-use'},
		nodes,
		stages: sshHostsStages(profile),
		// The switch's and consoles' socket paths are not used: their length does not matter.
		problems: [...plan.problems.filter(p => !(p.field === 'workDir' && p.message.startsWith('socket path')) && p.field !== 'boot.append'), ...problems],
	};
	hostsPlan.creates = sshHostsThings(hostsPlan, profile.ssh.keyPath === undefined);
	return hostsPlan;
}

// What `console NODE` runs on an existing machine instead of reading a serial console:
// the log file the profile names, or the journal.
export function hostConsoleCommand(target: PlanTarget, follow: boolean, lines = 200): string {
	const consoleLog = target.kind === 'ssh-hosts' ? target.consoleLog : undefined;
	if (consoleLog) return `tail -n ${lines}${follow ? ' -F' : ''} '${consoleLog.replaceAll("'", `'\\''`)}'`;
	return `journalctl --no-pager -n ${lines}${follow ? ' -f' : ''}`;
}
