import path from 'node:path';
import type {Accel, CheckType, HostKeyPolicy, InstallMethod, KeyType, Profile} from './profile-schema.js';
import {type FieldError, fieldError} from './field-error.js';
import {ipPrefixLength, resolveNodes, type ResolvedNode} from './resolve.js';
import {checkName, checkPort} from './check-name.js';
import {stagesFor, type StageName} from './stages.js';
import {fillTemplate} from './template.js';
import {installPlanFor, nixosAnywhereCommand, type EtcdPlan, type NodeInstallPlan} from './install-plan.js';
import {describeHostKey} from './host-key.js';
import {mgmtMacFor} from './mac.js';
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
	// Control planes that join a cluster already running (`node add`): their etcd starts with
	// `--initial-cluster-state existing` and an initial cluster of the members plus itself.
	joining?: readonly string[];
	// Where plasma-tui is installed: `{package}/` in install.nixosAnywhere.command names a program shipped with it.
	packageRoot?: string;
};

export type NodePlan = ResolvedNode & {
	// The management NIC's MAC (model/mac.ts mgmtMacFor): fixed, so an installed system matches that NIC by it.
	mgmtMac: string;
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
	// boot.firmware ovmf: the node's own copy of OVMF's variable store (its UEFI boot entries), made from plan.boot.ovmf.
	firmwareVars?: string;
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
	// Where the node's cluster NIC plugs in: a fixed port of the cluster switch (partitions move ports
	// between VLANs), directly or, with network.impairment, through a small switch of its own and a wirefilter.
	link: NodeLink;
	append: string;
	qemuArgs: string[];
	// How the node boots once its install is done (boot.afterInstall): the same list for `netboot`;
	// for `disk` the demo's kernel is told to start the installed system (plasma.boot=disk), and an
	// image installed by nixos-anywhere (or from an ISO) is booted by the firmware from its disk.
	qemuArgsInstalled: string[];
	install: NodeInstallPlan;
	// The node's etcd membership (control planes): `{etcdClusterState}` and `{etcdInitialCluster}` of its commands.
	etcd: {peerUrl: string; clientUrl: string; clusterState: 'new' | 'existing'; initialCluster: string};
	// Target ssh-hosts only (model/ssh-hosts-plan.ts): how the machine is reached, the disk
	// nixos-anywhere erases, and what `down` runs and removes on it.
	sshHost?: SshHost;
	installDisk?: string;
	uninstall?: NodeUninstallPlan;
};

export type NodeLink = {
	switchPort: number;
	impairment?: {
		dir: string;
		switchSocket: string;
		switchMgmt: string;
		switchPidfile: string;
		wirefilterMgmt: string;
		wirefilterPidfile: string;
		// Both daemonise (--daemon / -d) and write their pidfiles.
		switchArgv: string[];
		wirefilterArgv: string[];
	};
};

// The node's own port (resolve.ts: node01 on 1, kept when other nodes are removed); port 0 is the switch's own.
export function nodeLinkFor(switchPort: number, nodeRunDir: string, switchSocket: string, impairment: boolean): NodeLink {
	if (!impairment) return {switchPort};
	const dir = path.join(nodeRunDir, 'link');
	const socket = path.join(dir, 'switch.sock');
	const mgmt = path.join(dir, 'switch.mgmt');
	const pidfile = path.join(dir, 'switch.pid');
	const wirefilterMgmt = path.join(dir, 'wirefilter.mgmt');
	const wirefilterPidfile = path.join(dir, 'wirefilter.pid');
	return {
		switchPort,
		impairment: {
			dir,
			switchSocket: socket,
			switchMgmt: mgmt,
			switchPidfile: pidfile,
			wirefilterMgmt,
			wirefilterPidfile,
			switchArgv: ['vde_switch', '-d', '-s', socket, '-M', mgmt, '-p', pidfile],
			// Left: the node's side; right: its port of the cluster switch ("sock[port]").
			wirefilterArgv: ['wirefilter', '--daemon', '--pidfile', wirefilterPidfile, '-M', wirefilterMgmt, '-v', `${socket}:${switchSocket}[${switchPort}]`],
		},
	};
}

// A nix-built netboot image: `nix build <flake>#<attribute> --out-link <outLink>`,
// then kernelLink / initrdLink point at what it built, so the QEMU arguments
// never depend on the file names inside the derivation.
// extraArgs: boot.nixBuildArgs, after the tool's own arguments.
export type NixNetbootPlan = {flake: string; attribute: string; outLink: string; kernelLink: string; initrdLink: string; extraArgs: string[]};

// `nix build` of a netboot image: the tool's arguments, then boot.nixBuildArgs.
// Flakes are still an experimental feature on a default Nix install.
export function nixBuildArgv(build: {flake: string; attribute: string; outLink: string; extraArgs?: string[]}): string[] {
	return ['build', `${build.flake}#${build.attribute}`, '--out-link', build.outLink, '--print-build-logs', '--extra-experimental-features', 'nix-command flakes', ...(build.extraArgs ?? [])];
}

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
	// How control planes join and leave a running cluster (`node add`, `node remove`): through etcd's
	// member add / remove when the profile's commands start etcd members ({etcdInitialCluster}), else nothing to tell.
	membership: 'etcd' | 'none';
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
		// A console line that fails the node at once (boot.failPattern).
		failPattern?: string;
		nixBuild?: NixNetbootPlan;
		afterInstall: Profile['boot']['afterInstall'];
		// What boots an installed system from its disk (boot.firmware).
		firmware: Profile['boot']['firmware'];
		// boot.firmware ovmf: Debian's OVMF (package ovmf), its code read-only and a template of its variables.
		ovmf?: {code: string; varsTemplate: string};
	};
	install: {method: InstallMethod; flake: string; nixos: Profile['install']['nixos']; command: string};
	stateFile: string;
	// Held by up, down, certs and validate: one of them at a time per work directory.
	lockFile: string;
	// JSON lines, one per thing that happened to the cluster (faults, phases, check transitions, facts), oldest first.
	timelineFile: string;
	// One metadata file per whole-cluster snapshot (<name>.json); the saved state itself is inside each node's disk.
	snapshotsDir: string;
	// `up --from-snapshot NAME`: every QEMU starts with `-loadvm NAME` (withSnapshotBoot), nothing boots or installs.
	fromSnapshot?: string;
	// The key the persistence-across-restart check wrote, to read back after the next stop and start.
	persistenceMarker: string;
	report: {json: string; text: string};
	// `rehearse` writes <name>.json and <name>.txt here (model/rehearsal-report.ts).
	rehearsalDir: string;
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
export const OVMF = {code: '/usr/share/OVMF/OVMF_CODE_4M.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS_4M.fd'} as const;
export const DEMO_READY_PATTERN = 'plasma-ready';
// What the demo image prints when its sshd does not start (image/plasma-ready).
export const DEMO_FAIL_PATTERN = 'plasma-error';
// What a guest is handed (model/guest-contract.ts renders it for `image --contract`): its two virtio
// NICs in this order (the cluster NIC carries the profile's MAC, the management NIC one derived from it)
// and the fw_cfg names of its keys.
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
	const demo = boot.image === 'demo';
	const patterns = {readyPattern: boot.readyPattern ?? (demo ? DEMO_READY_PATTERN : undefined), failPattern: boot.failPattern ?? (demo ? DEMO_FAIL_PATTERN : undefined)};
	const {mode, image, nixAttr, afterInstall} = boot;
	const firmware = {firmware: boot.firmware, ...(boot.firmware === 'ovmf' ? {ovmf: {...OVMF}} : {})};
	if (boot.mode === 'netboot' && boot.image === 'demo') {
		return {mode, image, imageDir: context.imageDir, kernel: path.join(context.imageDir, 'vmlinuz'), initrd: path.join(context.imageDir, 'initrd.img'), ...patterns, afterInstall, ...firmware};
	}
	if (boot.mode === 'netboot' && boot.image === 'nix') {
		const out = path.join(workDir, 'netboot');
		const nixBuild = boot.nixAttr ? {...splitFlakeRef(boot.nixAttr, profile.install.nixosAnywhere.flake), outLink: path.join(out, 'result'), kernelLink: path.join(out, 'kernel'), initrdLink: path.join(out, 'initrd'), extraArgs: boot.nixBuildArgs} : undefined;
		return {mode, image, nixAttr, kernel: boot.kernel ?? path.join(out, 'kernel'), initrd: boot.initrd ?? path.join(out, 'initrd'), ...patterns, nixBuild, afterInstall, ...firmware};
	}
	return {mode, image, nixAttr, kernel: boot.kernel, initrd: boot.initrd, iso: boot.iso, diskImage: boot.diskImage, ...patterns, afterInstall, ...firmware};
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

// The demo image's kernel argument that makes its init start the system installed on the disk.
export const DEMO_BOOT_FROM_DISK = 'plasma.boot=disk';

// installed: the boot after the install (boot.afterInstall). The demo keeps its kernel and is told to
// start from the disk; a written system (nixos-anywhere, an ISO install) is booted by the firmware.
export function qemuArgsFor(node: NodePlan, plan: Pick<Plan, 'accel' | 'boot' | 'vde' | 'ssh' | 'profileName' | 'install' | 'fromSnapshot'>, installed = false): string[] {
	const fromDisk = installed && plan.boot.afterInstall === 'disk' && plan.install.method !== 'none';
	const firmwareBoot = fromDisk && (plan.install.method === 'nixos-anywhere' || plan.boot.mode === 'iso');
	// nixos-anywhere's reboot ends the first QEMU (its -kernel would netboot again): the engine starts the installed one.
	const rebootEndsQemu = !installed && plan.install.method === 'nixos-anywhere' && plan.boot.afterInstall === 'disk';
	// The system nixos-anywhere installed has its host key on its disk (the extra files): fw_cfg hands it none.
	const keyOnDisk = firmwareBoot && plan.install.method === 'nixos-anywhere';
	const args = [
		'-name', `${node.name},process=plasma-tui:${plan.profileName}:${node.name}`,
		'-nodefaults', '-no-user-config', '-display', 'none',
		'-machine', 'q35',
		...(plan.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg']),
		'-smp', String(node.vcpus),
		'-m', String(node.memoryMiB),
		'-drive', `file=${qemuValue(node.disk.path)},if=virtio,format=qcow2`,
		...(rebootEndsQemu ? ['-no-reboot'] : []),
	];
	if (firmwareBoot) {
		const {ovmf} = plan.boot;
		if (ovmf && node.firmwareVars) args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${qemuValue(ovmf.code)}`, '-drive', `if=pflash,format=raw,unit=1,file=${qemuValue(node.firmwareVars)}`);
		args.push('-boot', 'order=c');
	} else if (plan.boot.mode === 'netboot') {
		args.push('-kernel', plan.boot.kernel ?? '', '-initrd', plan.boot.initrd ?? '', '-append', fromDisk && plan.boot.image === 'demo' ? `${node.append} ${DEMO_BOOT_FROM_DISK}` : node.append);
	} else if (plan.boot.mode === 'iso') {
		args.push('-cdrom', plan.boot.iso ?? '', '-boot', 'once=d');
	}
	const cluster = node.link.impairment ? `sock=${qemuValue(node.link.impairment.switchSocket)}` : `sock=${qemuValue(plan.vde.socket)},port=${node.link.switchPort}`;
	args.push(
		'-netdev', `vde,id=${GUEST_NICS[0].netdev},${cluster}`,
		'-device', `virtio-net-pci,netdev=${GUEST_NICS[0].netdev},mac=${node.mac}`,
		'-netdev', `user,id=${GUEST_NICS[1].netdev},restrict=on,hostfwd=tcp:127.0.0.1:${node.sshPort}-:22`,
		'-device', `virtio-net-pci,netdev=${GUEST_NICS[1].netdev},mac=${node.mgmtMac}`,
		// Entropy from the host's /dev/urandom: without it a TCG guest's sshd blocks in getrandom()
		// until the kernel's jitter entropy seeds the CRNG (2-12 s of the boot, measured in bench/README.md).
		'-device', 'virtio-rng-pci',
		'-chardev', `socket,id=console,path=${qemuValue(node.runtime.consoleSocket)},server=on,wait=off,logfile=${qemuValue(node.runtime.consoleLog)}`,
		'-serial', 'chardev:console',
		// Not `-qmp unix:PATH`: that form parses PATH as an implied key, so a path with "=" breaks it.
		'-chardev', `socket,id=qmp,path=${qemuValue(node.runtime.qmpSocket)},server=on,wait=off`,
		'-mon', 'chardev=qmp,mode=control',
		'-pidfile', node.runtime.pidfile,
		'-fw_cfg', `name=${GUEST_FW_CFG.authorizedKeys},file=${qemuValue(plan.ssh.publicKey)}`,
		...(keyOnDisk ? [] : ['-fw_cfg', `name=${GUEST_FW_CFG.hostKey},file=${qemuValue(node.files.hostKey)}`]),
	);
	// Only added, never a device: a snapshot loads into exactly the machine the normal boot builds.
	if (plan.fromSnapshot) args.push('-loadvm', plan.fromSnapshot);
	return args;
}

// Preflight decides the accelerator after the plan is built: only the QEMU arguments change.
export function withAccel(plan: Plan, accel: 'kvm' | 'tcg'): Plan {
	const chosen = {...plan, accel, accelNote: `${accel.toUpperCase()} (chosen by preflight)`};
	return {...chosen, nodes: plan.nodes.map(node => ({...node, qemuArgs: qemuArgsFor(node, chosen), qemuArgsInstalled: qemuArgsFor(node, chosen, true)}))};
}

// `up --from-snapshot NAME`: the same plan, every node started from its saved state.
export function withSnapshotBoot(plan: Plan, name: string): Plan {
	const chosen = {...plan, fromSnapshot: name};
	return {...chosen, nodes: plan.nodes.map(node => ({...node, qemuArgs: qemuArgsFor(node, chosen), qemuArgsInstalled: qemuArgsFor(node, chosen, true)}))};
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
		install: {method: profile.install.method, flake: profile.install.nixosAnywhere.flake, nixos: profile.install.nixos, command: nixosAnywhereCommand(profile.install.nixosAnywhere.command, context.packageRoot)},
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
	const peerUrl = (n: ResolvedNode) => `https://${n.hostname}:2380`;
	const clientUrl = (n: ResolvedNode) => `https://${n.hostname}:2379`;
	const joining = new Set(context.joining ?? []);
	const etcdInitialCluster = controlPlane.map(n => `${n.name}=${peerUrl(n)}`).join(',');
	const etcdEndpoints = controlPlane.map(clientUrl).join(',');
	// A joining member lists the members already running and itself, never another joining one.
	const etcdFor = (node: ResolvedNode): NodePlan['etcd'] => {
		const state = joining.has(node.name) ? 'existing' : 'new';
		const initial = state === 'new' ? etcdInitialCluster : controlPlane.filter(n => n.name === node.name || !joining.has(n.name)).map(n => `${n.name}=${peerUrl(n)}`).join(',');
		return {peerUrl: peerUrl(node), clientUrl: clientUrl(node), clusterState: state, initialCluster: initial};
	};
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
			mgmtMac: mgmtMacFor(node.mac),
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
			...(profile.boot.firmware === 'ovmf' ? {firmwareVars: path.join(dir, 'OVMF_VARS.fd')} : {}),
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
			link: nodeLinkFor(node.switchPort, nodeRunDir, base.vde.socket, profile.network.impairment),
			append: fillTemplate(profile.boot.append, vars),
			qemuArgs: [],
			qemuArgsInstalled: [],
			install: {method: 'none'},
			etcd: etcdFor(node),
			...(profile.target.kind === 'ssh-hosts' ? {sshHost: sshHostOf(profile, node.index), installDisk: profile.nodes[node.index]?.installDisk} : {}),
		};
		// Filled in, not as written: {fqdn} and friends can make a short template too long for the kernel.
		const appendBytes = Buffer.byteLength(partial.append);
		if (profile.boot.mode === 'netboot' && appendBytes > MAX_APPEND_BYTES) {
			problems.push(fieldError('boot.append', `the kernel command line of ${node.name} is ${appendBytes} bytes once its placeholders are filled`, `keep it to ${MAX_APPEND_BYTES} bytes: x86 Linux reads 2048 including the terminating NUL`));
		}
		partial.qemuArgs = qemuArgsFor(partial, base);
		partial.qemuArgsInstalled = qemuArgsFor(partial, base, true);
		partial.hostKey.expect = describeHostKey({policy: profile.ssh.hostKeyPolicy, sshPort: node.sshPort, pinned: partial.pinnedHostKey, generated: `key ${partial.files.hostKeyPub}`, knownHosts: base.ssh.knownHosts});
		const install = installPlanFor(profile, partial, {vars, ssh: base.ssh, etcd: {etcdInitialCluster: partial.etcd.initialCluster, etcdEndpoints, etcdClusterState: partial.etcd.clusterState}, packageRoot: context.packageRoot});
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
		membership: usesEtcdMembers(profile) ? 'etcd' : 'none',
		tls: {
			dir: tlsDir,
			caCert: tls.existingCa?.cert ?? path.join(tlsDir, 'ca.crt'),
			caKey: tls.existingCa?.key ?? path.join(tlsDir, 'ca.key'),
			reuseExisting: tls.existingCa !== undefined,
			validityDays: tls.validityDays,
			caSubject: tls.caSubject,
		},
		stateFile: path.join(workDir, 'state.json'),
		lockFile: path.join(workDir, 'lock'),
		timelineFile: path.join(workDir, 'timeline.jsonl'),
		snapshotsDir: path.join(workDir, 'snapshots'),
		persistenceMarker: path.join(workDir, 'persistence-marker.json'),
		report: {json: path.join(workDir, 'report.json'), text: path.join(workDir, 'report.txt')},
		rehearsalDir: path.join(workDir, 'rehearsals'),
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

function usesEtcdMembers(profile: Profile): boolean {
	return profile.install.method === 'push' && profile.install.push.commands.some(command => (typeof command === 'string' ? command : command.run).includes('{etcdInitialCluster}'));
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
		{kind: 'dir', path: plan.snapshotsDir, note: 'snapshot metadata (plasma-tui snapshot save): one NAME.json each; RAM and disk state inside each node disk'},
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
			...(node.firmwareVars ? [{kind: 'file' as const, path: node.firmwareVars, note: `${node.name}: OVMF variables (copied from ${plan.boot.ovmf?.varsTemplate} before its first firmware boot)`}] : []),
			{kind: 'socket', path: node.runtime.consoleSocket, note: `${node.name}: serial console (log ${node.runtime.consoleLog})`},
			{kind: 'socket', path: node.runtime.qmpSocket, note: `${node.name}: QMP`},
			{kind: 'port', path: `127.0.0.1:${node.sshPort}`, note: `${node.name}: SSH forward to guest port 22`},
			{kind: 'process', path: QEMU_BINARY, note: `${node.name}: ${node.vcpus} vCPU, ${node.memoryMiB} MiB, MAC ${node.mac}, IP ${node.ip}, management MAC ${node.mgmtMac}`},
		);
		const link = node.link.impairment;
		if (link) {
			things.push(
				{kind: 'process', path: 'vde_switch', note: `${node.name}: the node's own switch ${link.switchSocket}`},
				{kind: 'process', path: 'wirefilter', note: `${node.name}: link to cluster switch port ${node.link.switchPort} (delay, loss, bandwidth; mgmt ${link.wirefilterMgmt})`},
			);
		}
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
	const sockets = [plan.vde.socket, plan.vde.mgmt, ...plan.nodes.flatMap(n => [n.runtime.consoleSocket, n.runtime.qmpSocket, ...(n.link.impairment ? [n.link.impairment.switchMgmt, n.link.impairment.wirefilterMgmt] : [])])];
	const tooLong = sockets.find(s => Buffer.byteLength(s) > MAX_SOCKET_PATH);
	return tooLong
		? [fieldError('workDir', `socket path ${tooLong} is longer than ${MAX_SOCKET_PATH} bytes`, 'choose a shorter work directory (workDir in the profile or PLASMA_TUI_HOME)')]
		: [];
}

// The etcd variables of one node's commands (`{etcdInitialCluster}`, `{etcdEndpoints}`, `{etcdClusterState}`).
export function etcdVariablesFor(plan: Pick<Plan, 'etcdEndpoints'>, node: Pick<NodePlan, 'etcd'>): EtcdPlan {
	return {etcdInitialCluster: node.etcd.initialCluster, etcdEndpoints: plan.etcdEndpoints, etcdClusterState: node.etcd.clusterState};
}
