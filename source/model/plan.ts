import path from 'node:path';
import type {Accel, CheckType, HostKeyPolicy, InstallMethod, KeyType, Profile} from './profile-schema.js';
import {type FieldError, fieldError} from './field-error.js';
import {ipPrefixLength, resolveNodes, type ResolvedNode} from './resolve.js';
import {checkName, checkPort} from './check-name.js';
import {stagesFor, type StageName} from './stages.js';
import {fillTemplate} from './template.js';
import {installPlanFor, type NodeInstallPlan} from './install-plan.js';
import {describeHostKey} from './host-key.js';
import {forSshHosts, planTarget, sshHostOf, type NodeUninstallPlan, type PlanTarget, type SshHost} from './ssh-hosts-plan.js';

// The plan is a pure function of the profile and a few host facts passed in
// (where work and cache directories are, which accelerator preflight chose).
// Every path, name and argument the run uses is decided here, once.

export type PlanContext = {
	// Directory that holds one work directory per profile (services/paths.ts).
	clustersDir: string;
	// Where the project's demo netboot image is built and cached.
	imageDir: string;
	// The tool's own data directory (services/paths.ts): host-wide caches such as the KVM probe.
	home: string;
	// Accelerator chosen by preflight; absent means "not probed yet" (planned as TCG).
	accel?: 'kvm' | 'tcg';
	// The operator's home directory and the tool's config directory (services/paths.ts): a workDir
	// or vdeSocket that is one of them, or above one, is refused (`down --purge` would delete it).
	userHome?: string;
	configDir?: string;
};

export type NodePlan = ResolvedNode & {
	dir: string;
	bootstrap: boolean;
	// The subject of the node's certificate. A worker's has no Common Name: the demo's
	// `etcd grpc-proxy` refuses a client certificate with one ("cert has non empty Common Name").
	certSubject: string;
	secrets: {
		dir: string;
		ca: string;
		cert: string;
		key: string;
		caName: string;
		certName: string;
		keyName: string;
		remoteDir: string;
		remoteCa: string;
		remoteCert: string;
		remoteKey: string;
		remoteClusterConfig: string;
	};
	files: {
		clusterConfig: string;
		hosts: string;
		nixosModule: string;
		disko: string;
		hostKey: string;
		hostKeyPub: string;
	};
	disk: {path: string; sizeGiB: number; backing?: string};
	runtime: {
		consoleSocket: string;
		consoleLog: string;
		qmpSocket: string;
		pidfile: string;
		installLog: string;
		// QEMU's own stdout and stderr (not the guest console).
		qemuLog: string;
	};
	// The host key the profile pins for this node (ssh.hostKeys), if any.
	pinnedHostKey?: string;
	// Which host key the node must present in which phase (ssh.hostKeyPolicy); `expect`
	// says it in words. The generated key's fingerprint is read from files.hostKeyPub
	// before first contact, once the certificates stage wrote it.
	hostKey: {policy: HostKeyPolicy; expect: string};
	append: string;
	qemuArgs: string[];
	install: NodeInstallPlan;
	// Target ssh-hosts only (model/ssh-hosts-plan.ts): how the machine is reached, the disk
	// nixos-anywhere erases, and what `down` runs and removes on it.
	sshHost?: SshHost;
	installDisk?: string;
	uninstall?: NodeUninstallPlan;
};

// A nix-built netboot image: `nix build <flake>#<attribute> --out-link <outLink>`,
// then kernelLink / initrdLink point at what it built, so the QEMU arguments
// never depend on the file names inside the derivation.
export type NixNetbootPlan = {flake: string; attribute: string; outLink: string; kernelLink: string; initrdLink: string};

export type PlannedThing = {
	kind: 'dir' | 'file' | 'secret' | 'disk' | 'socket' | 'port' | 'process';
	path: string;
	note: string;
};

// A check of the validate stage as the operator sees it before the run.
export type PlannedCheck = {name: string; type: CheckType; port?: number; timeoutSec: number};

export type Plan = {
	profileName: string;
	// VMs this tool boots (qemu) or machines that already exist (ssh-hosts).
	target: PlanTarget;
	workDir: string;
	accel: 'kvm' | 'tcg';
	accelNote: string;
	// boot.accel as the profile sets it: what preflight probes for.
	accelWanted: Accel;
	// Preflight's KVM verdict, cached per host boot.
	kvmProbeCache: string;
	keyType: KeyType;
	cluster: {name: string; domain: string; prefixLength: number};
	// etcd's --initial-cluster: every control-plane member at its peer URL (workers are not members).
	etcdInitialCluster: string;
	// The members' client URLs, for what runs on workers (the demo's etcd grpc-proxy): `{etcdEndpoints}`.
	etcdEndpoints: string;
	vde: {dir: string; socket: string; mgmt: string; pidfile: string; log: string};
	ssh: {dir: string; privateKey: string; publicKey: string; user: string; knownHosts: string; hostKeyPolicy: HostKeyPolicy};
	tls: {dir: string; caCert: string; caKey: string; reuseExisting: boolean; validityDays: number; caSubject: string};
	boot: {
		mode: Profile['boot']['mode'];
		image: Profile['boot']['image'];
		// The demo image's cache directory (image: demo).
		imageDir?: string;
		nixAttr?: string;
		kernel?: string;
		initrd?: string;
		iso?: string;
		diskImage?: string;
		readyPattern?: string;
		nixBuild?: NixNetbootPlan;
	};
	install: {method: InstallMethod; flake: string};
	stateFile: string;
	// Held by up, down, certs and validate: one of them at a time per work directory.
	lockFile: string;
	// JSON lines, one per thing that happened to the cluster (faults, phases, check transitions, facts), oldest first.
	timelineFile: string;
	report: {json: string; text: string};
	nodes: NodePlan[];
	creates: PlannedThing[];
	stages: StageName[];
	checks: PlannedCheck[];
	problems: FieldError[];
};

// x86 Linux reads at most 2048 bytes of kernel command line, its NUL included.
const MAX_APPEND_BYTES = 2047;

// Linux limits a unix socket path to 107 bytes.
const MAX_SOCKET_PATH = 107;

export const QEMU_BINARY = 'qemu-system-x86_64';
export const DEMO_READY_PATTERN = 'plasma-ready';
// What a guest is handed (model/guest-contract.ts renders it for `image --contract`): its two virtio
// NICs in this order (the cluster NIC carries the profile's MAC) and the fw_cfg names of its keys.
export const GUEST_NICS = [
	{netdev: 'cluster', role: 'cluster'},
	{netdev: 'mgmt', role: 'management'},
] as const;
export const GUEST_FW_CFG = {authorizedKeys: 'opt/plasma/authorized_keys', hostKey: 'opt/plasma/ssh_host_ed25519_key'} as const;
const CLUSTER_CONFIG_NAME = 'cluster-config.json';

export function workDirFor(profile: Profile, context: PlanContext): string {
	return profile.workDir === undefined ? path.join(context.clustersDir, profile.name) : normalPath(profile.workDir);
}

// `/home/me/c/..` is `/home/me`: an absolute path is resolved (it does not depend on the current
// directory); a relative one is left for the profile rules to refuse.
function normalPath(file: string): string {
	return path.isAbsolute(file) ? path.resolve(file) : file;
}

// The per-node variables of every template: the kernel command line and the push install's commands.
export function nodeVars(node: ResolvedNode, cluster: Plan['cluster']): Record<string, string | number> {
	return {
		name: node.name,
		node: node.name,
		hostname: node.hostname,
		fqdn: node.fqdn,
		ip: node.ip,
		prefix: cluster.prefixLength,
		mac: node.mac,
		sshPort: node.sshPort,
		domain: cluster.domain,
		cluster: cluster.name,
	};
}

function bootPaths(profile: Profile, context: PlanContext, workDir: string): Plan['boot'] {
	const {boot} = profile;
	const readyPattern = boot.readyPattern ?? (boot.image === 'demo' ? DEMO_READY_PATTERN : undefined);
	const {mode, image, nixAttr} = boot;
	if (boot.mode === 'netboot' && boot.image === 'demo') {
		return {mode, image, imageDir: context.imageDir, kernel: path.join(context.imageDir, 'vmlinuz'), initrd: path.join(context.imageDir, 'initrd.img'), readyPattern};
	}
	if (boot.mode === 'netboot' && boot.image === 'nix') {
		const out = path.join(workDir, 'netboot');
		const nixBuild = boot.nixAttr ? {...splitFlakeRef(boot.nixAttr, profile.install.nixosAnywhere.flake), outLink: path.join(out, 'result'), kernelLink: path.join(out, 'kernel'), initrdLink: path.join(out, 'initrd')} : undefined;
		return {mode, image, nixAttr, kernel: boot.kernel ?? path.join(out, 'kernel'), initrd: boot.initrd ?? path.join(out, 'initrd'), readyPattern, nixBuild};
	}
	return {mode, image, nixAttr, kernel: boot.kernel, initrd: boot.initrd, iso: boot.iso, diskImage: boot.diskImage, readyPattern};
}

// `.#netboot-base` -> flake `.`, attribute `netboot-base`; a bare attribute is
// taken from the flake nixos-anywhere installs from.
export function splitFlakeRef(ref: string, defaultFlake: string): {flake: string; attribute: string} {
	const hash = ref.lastIndexOf('#');
	return hash < 0 ? {flake: defaultFlake, attribute: ref} : {flake: ref.slice(0, hash) || defaultFlake, attribute: ref.slice(hash + 1)};
}

// QEMU splits option values on commas; a literal comma is written twice.
export function qemuValue(text: string): string {
	return text.replaceAll(',', ',,');
}

export function qemuArgsFor(node: NodePlan, plan: Pick<Plan, 'accel' | 'boot' | 'vde' | 'ssh' | 'profileName'>): string[] {
	const args = [
		'-name', `${node.name},process=plasma-tui:${plan.profileName}:${node.name}`,
		'-nodefaults', '-no-user-config', '-display', 'none',
		'-machine', 'q35',
		...(plan.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg']),
		'-smp', String(node.vcpus),
		'-m', String(node.memoryMiB),
		'-drive', `file=${qemuValue(node.disk.path)},if=virtio,format=qcow2`,
	];
	if (plan.boot.mode === 'netboot') {
		args.push('-kernel', plan.boot.kernel ?? '', '-initrd', plan.boot.initrd ?? '', '-append', node.append);
	} else if (plan.boot.mode === 'iso') {
		args.push('-cdrom', plan.boot.iso ?? '', '-boot', 'once=d');
	}
	args.push(
		'-netdev', `vde,id=${GUEST_NICS[0].netdev},sock=${qemuValue(plan.vde.socket)}`,
		'-device', `virtio-net-pci,netdev=${GUEST_NICS[0].netdev},mac=${node.mac}`,
		'-netdev', `user,id=${GUEST_NICS[1].netdev},restrict=on,hostfwd=tcp:127.0.0.1:${node.sshPort}-:22`,
		'-device', `virtio-net-pci,netdev=${GUEST_NICS[1].netdev}`,
		'-chardev', `socket,id=console,path=${qemuValue(node.runtime.consoleSocket)},server=on,wait=off,logfile=${qemuValue(node.runtime.consoleLog)}`,
		'-serial', 'chardev:console',
		// Not `-qmp unix:PATH`: that form parses PATH as an implied key, so a path with "=" breaks it.
		'-chardev', `socket,id=qmp,path=${qemuValue(node.runtime.qmpSocket)},server=on,wait=off`,
		'-mon', 'chardev=qmp,mode=control',
		'-pidfile', node.runtime.pidfile,
		'-fw_cfg', `name=${GUEST_FW_CFG.authorizedKeys},file=${qemuValue(plan.ssh.publicKey)}`,
		'-fw_cfg', `name=${GUEST_FW_CFG.hostKey},file=${qemuValue(node.files.hostKey)}`,
	);
	return args;
}

// Preflight decides the accelerator after the plan is built: only the QEMU arguments change.
export function withAccel(plan: Plan, accel: 'kvm' | 'tcg'): Plan {
	const chosen = {...plan, accel, accelNote: `${accel.toUpperCase()} (chosen by preflight)`};
	return {...chosen, nodes: plan.nodes.map(node => ({...node, qemuArgs: qemuArgsFor(node, chosen)}))};
}

export function buildPlan(profile: Profile, context: PlanContext): Plan {
	const workDir = workDirFor(profile, context);
	const accel: Plan['accel'] = profile.boot.accel === 'kvm' ? 'kvm' : 'tcg';
	const accelNote = profile.boot.accel === 'auto' ? 'TCG until preflight probes KVM' : `${accel.toUpperCase()} (set in the profile)`;
	const runDir = path.join(workDir, 'run');
	const vdeDir = path.join(runDir, 'vde');
	const sshDir = path.join(workDir, 'ssh');
	const tlsDir = path.join(workDir, 'tls');
	const tls = profile.tls;
	const base = {
		profileName: profile.name,
		accel,
		boot: bootPaths(profile, context, workDir),
		vde: {
			dir: vdeDir,
			socket: profile.network.vdeSocket === undefined ? path.join(vdeDir, 'switch.sock') : normalPath(profile.network.vdeSocket),
			mgmt: path.join(vdeDir, 'mgmt.sock'),
			pidfile: path.join(vdeDir, 'switch.pid'),
			log: path.join(vdeDir, 'switch.log'),
		},
		ssh: {
			dir: sshDir,
			privateKey: profile.ssh.keyPath ?? path.join(sshDir, 'id_ed25519'),
			publicKey: `${profile.ssh.keyPath ?? path.join(sshDir, 'id_ed25519')}.pub`,
			user: profile.ssh.user,
			knownHosts: path.join(sshDir, 'known_hosts.json'),
			hostKeyPolicy: profile.ssh.hostKeyPolicy,
		},
	};
	const cluster = {name: profile.cluster.name, domain: profile.cluster.domain, prefixLength: ipPrefixLength(profile)};
	const resolved = resolveNodes(profile);
	const controlPlane = resolved.filter(n => n.role === 'control-plane');
	const etcdInitialCluster = controlPlane.map(n => `${n.name}=https://${n.hostname}:2380`).join(',');
	const etcdEndpoints = controlPlane.map(n => `https://${n.hostname}:2379`).join(',');
	const problems: FieldError[] = [];
	const nodes: NodePlan[] = resolved.map(node => {
		const dir = path.join(workDir, 'nodes', node.name);
		const secretsDir = path.join(dir, 'secrets');
		const caName = fillTemplate(tls.fileNames.ca, {node: node.name});
		const certName = fillTemplate(tls.fileNames.cert, {node: node.name});
		const keyName = fillTemplate(tls.fileNames.key, {node: node.name});
		const nodeRunDir = path.join(runDir, node.name);
		const vars = nodeVars(node, cluster);
		const partial: NodePlan = {
			...node,
			dir,
			bootstrap: node.role === 'control-plane',
			certSubject: node.role === 'worker' ? `O=${cluster.name}, OU=${node.hostname}` : `CN=${node.hostname}`,
			secrets: {
				dir: secretsDir,
				ca: path.join(secretsDir, caName),
				cert: path.join(secretsDir, certName),
				key: path.join(secretsDir, keyName),
				caName,
				certName,
				keyName,
				remoteDir: tls.remoteDir,
				remoteCa: path.posix.join(tls.remoteDir, caName),
				remoteCert: path.posix.join(tls.remoteDir, certName),
				remoteKey: path.posix.join(tls.remoteDir, keyName),
				remoteClusterConfig: path.posix.join(tls.remoteDir, CLUSTER_CONFIG_NAME),
			},
			files: {
				clusterConfig: path.join(secretsDir, CLUSTER_CONFIG_NAME),
				hosts: path.join(dir, 'hosts'),
				nixosModule: path.join(dir, 'configuration.nix'),
				disko: path.join(dir, 'disko.nix'),
				hostKey: path.join(dir, 'ssh_host_ed25519_key'),
				hostKeyPub: path.join(dir, 'ssh_host_ed25519_key.pub'),
			},
			disk: {
				path: path.join(dir, 'disk.qcow2'),
				sizeGiB: node.diskGiB,
				backing: profile.boot.mode === 'disk' ? profile.boot.diskImage : undefined,
			},
			runtime: {
				consoleSocket: path.join(nodeRunDir, 'console.sock'),
				// Logs sit with the node's files, not in run/: they outlive `down` for the post-mortem.
				consoleLog: path.join(dir, 'console.log'),
				qmpSocket: path.join(nodeRunDir, 'qmp.sock'),
				pidfile: path.join(nodeRunDir, 'qemu.pid'),
				installLog: path.join(dir, 'install.log'),
				qemuLog: path.join(nodeRunDir, 'qemu.log'),
			},
			pinnedHostKey: profile.ssh.hostKeys[node.name],
			hostKey: {policy: profile.ssh.hostKeyPolicy, expect: ''},
			append: fillTemplate(profile.boot.append, vars),
			qemuArgs: [],
			install: {method: 'none'},
			...(profile.target.kind === 'ssh-hosts' ? {sshHost: sshHostOf(profile, node.index), installDisk: profile.nodes[node.index]?.installDisk} : {}),
		};
		// Filled in, not as written: {fqdn} and friends can make a short template too long for the kernel.
		const appendBytes = Buffer.byteLength(partial.append);
		if (profile.boot.mode === 'netboot' && appendBytes > MAX_APPEND_BYTES) {
			problems.push(fieldError('boot.append', `the kernel command line of ${node.name} is ${appendBytes} bytes once its placeholders are filled`, `keep it to ${MAX_APPEND_BYTES} bytes: x86 Linux reads 2048 including the terminating NUL`));
		}
		partial.qemuArgs = qemuArgsFor(partial, base);
		partial.hostKey.expect = describeHostKey({policy: profile.ssh.hostKeyPolicy, sshPort: node.sshPort, pinned: partial.pinnedHostKey, generated: `key ${partial.files.hostKeyPub}`, knownHosts: base.ssh.knownHosts});
		const install = installPlanFor(profile, partial, {vars, ssh: base.ssh, etcd: {etcdInitialCluster, etcdEndpoints}});
		partial.install = install.install;
		problems.push(...install.problems);
		return partial;
	});

	const plan: Plan = {
		...base,
		target: planTarget(profile),
		workDir,
		accelNote,
		accelWanted: profile.boot.accel,
		kvmProbeCache: path.join(context.home, 'kvm-probe.json'),
		keyType: tls.keyType,
		cluster,
		etcdInitialCluster,
		etcdEndpoints,
		tls: {
			dir: tlsDir,
			caCert: tls.existingCa?.cert ?? path.join(tlsDir, 'ca.crt'),
			caKey: tls.existingCa?.key ?? path.join(tlsDir, 'ca.key'),
			reuseExisting: tls.existingCa !== undefined,
			validityDays: tls.validityDays,
			caSubject: tls.caSubject,
		},
		install: {method: profile.install.method, flake: profile.install.nixosAnywhere.flake},
		stateFile: path.join(workDir, 'state.json'),
		lockFile: path.join(workDir, 'lock'),
		timelineFile: path.join(workDir, 'timeline.jsonl'),
		report: {json: path.join(workDir, 'report.json'), text: path.join(workDir, 'report.txt')},
		nodes,
		creates: [],
		stages: stagesFor(profile, {nixBuild: base.boot.nixBuild !== undefined}),
		checks: profile.checks.map(spec => ({name: checkName(spec), type: spec.type, port: checkPort(spec), timeoutSec: spec.timeoutSec})),
		problems: [],
	};
	plan.creates = plannedThings(plan, controlPlane.length);
	plan.problems = [...guardedPathProblems(plan, profile, context), ...socketProblems(plan), ...problems];
	return forSshHosts(context.accel ? withAccel(plan, context.accel) : plan, profile, node => nodeVars(node, cluster));
}

function plannedThings(plan: Plan, controlPlaneCount: number): PlannedThing[] {
	const things: PlannedThing[] = [
		{kind: 'dir', path: plan.workDir, note: 'work directory'},
		{kind: 'secret', path: plan.ssh.privateKey, note: 'SSH key for the nodes (0600), created if absent'},
		{kind: 'file', path: plan.tls.caCert, note: plan.tls.reuseExisting ? 'existing CA certificate (reused)' : 'CA certificate (reused if valid)'},
		{kind: 'secret', path: plan.tls.caKey, note: plan.tls.reuseExisting ? 'existing CA key (reused, never copied to nodes)' : 'CA key (0400)'},
		{kind: 'process', path: 'vde_switch', note: `L2 switch for ${plan.nodes.length} nodes`},
		{kind: 'socket', path: plan.vde.socket, note: 'VDE switch data socket'},
		{kind: 'socket', path: plan.vde.mgmt, note: 'VDE switch management socket'},
		{kind: 'file', path: plan.stateFile, note: 'state: every PID, socket and port of the run'},
		{kind: 'file', path: plan.lockFile, note: 'held while up, down, certs or validate runs (pid and start time of the holder)'},
		{kind: 'file', path: plan.timelineFile, note: 'timeline: faults, node phases, check transitions and cluster facts, one JSON line each'},
	];
	for (const node of plan.nodes) {
		things.push(
			{kind: 'file', path: node.secrets.ca, note: `${node.name}: CA certificate (0644)`},
			{kind: 'file', path: node.secrets.cert, note: `${node.name}: certificate for ${node.hostname}, ${node.fqdn}, ${node.ip} (0644)`},
			{kind: 'secret', path: node.secrets.key, note: `${node.name}: private key (0400)`},
			{kind: 'file', path: node.files.clusterConfig, note: `${node.name}: cluster config (${node.role}, bootstrap ${node.bootstrap}, ${controlPlaneCount} control-plane peers)`},
			{kind: 'file', path: node.files.hosts, note: `${node.name}: hosts entries for every node`},
			{kind: 'file', path: node.files.nixosModule, note: `${node.name}: NixOS module`},
			{kind: 'file', path: node.files.disko, note: `${node.name}: disko layout`},
			{kind: 'secret', path: node.files.hostKey, note: `${node.name}: SSH host key (kept across reboots)`},
			{kind: 'disk', path: node.disk.path, note: `${node.name}: ${node.disk.sizeGiB} GiB qcow2 (sparse)`},
			{kind: 'socket', path: node.runtime.consoleSocket, note: `${node.name}: serial console (log ${node.runtime.consoleLog})`},
			{kind: 'socket', path: node.runtime.qmpSocket, note: `${node.name}: QMP`},
			{kind: 'port', path: `127.0.0.1:${node.sshPort}`, note: `${node.name}: SSH forward to guest port 22`},
			{kind: 'process', path: QEMU_BINARY, note: `${node.name}: ${node.vcpus} vCPU, ${node.memoryMiB} MiB, MAC ${node.mac}, IP ${node.ip}`},
		);
	}
	return things;
}

// What `down --purge` deletes (the work directory) and what the switch's socket replaces must never be
// the root, the operator's home, the tool's own directories, or a directory above one of them.
function guardedPathProblems(plan: Plan, profile: Profile, context: PlanContext): FieldError[] {
	const guarded: Array<[string | undefined, string]> = [
		['/', 'the root directory'],
		[context.userHome, 'your home directory'],
		[context.configDir, "plasma-tui's config directory"],
		[context.home, "plasma-tui's data directory"],
		[context.clustersDir, 'the directory of every profile\'s work directory'],
		[context.imageDir, "the demo image's directory"],
	];
	const clash = (file: string): string | undefined => {
		for (const [dir, what] of guarded) {
			if (!dir || !path.isAbsolute(dir)) continue;
			const resolved = path.resolve(dir);
			if (file === resolved) return `is ${what}`;
			if (file === '/' || resolved.startsWith(`${file}${path.sep}`)) return `holds ${what} (${resolved})`;
		}
		return undefined;
	};
	const problems: FieldError[] = [];
	const workDirClash = profile.workDir !== undefined && path.isAbsolute(plan.workDir) ? clash(plan.workDir) : undefined;
	if (workDirClash) {
		problems.push(fieldError('workDir', `${plan.workDir} ${workDirClash}: \`down --purge\` would delete it`, `choose a directory of its own, e.g. ${path.join(context.clustersDir, profile.name)}, or remove workDir from the profile to use that one`));
	}
	const socketClash = profile.network.vdeSocket !== undefined && path.isAbsolute(plan.vde.socket) ? clash(plan.vde.socket) : undefined;
	if (socketClash) {
		problems.push(fieldError('network.vdeSocket', `${plan.vde.socket} ${socketClash}: the switch's socket needs a path of its own`, `remove network.vdeSocket from the profile (the switch then lives in ${plan.vde.dir})`));
	}
	return problems;
}

function socketProblems(plan: Plan): FieldError[] {
	const sockets = [plan.vde.socket, plan.vde.mgmt, ...plan.nodes.flatMap(n => [n.runtime.consoleSocket, n.runtime.qmpSocket])];
	const tooLong = sockets.find(s => Buffer.byteLength(s) > MAX_SOCKET_PATH);
	return tooLong
		? [fieldError('workDir', `socket path ${tooLong} is longer than ${MAX_SOCKET_PATH} bytes`, 'choose a shorter work directory (workDir in the profile or PLASMA_TUI_HOME)')]
		: [];
}
