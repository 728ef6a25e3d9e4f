import {z} from 'zod';
import {CHECKS} from '../services/checks/registry.js';
import {roleSchema, rolesSchema} from './node-role.js';

// The one schema of a profile. Every type the tool uses for profile data is
// inferred from here (see `Profile`, `NodeSpec`, `CheckSpec` below).
// Every object is strict: a misspelt key is an error, never a silent default.

export const PROFILE_VERSION = 1;

export {roleSchema};
export const keyTypeSchema = z.enum(['ecdsa-p256', 'rsa-2048', 'rsa-4096']);
export const accelSchema = z.enum(['auto', 'kvm', 'tcg']);
export const bootModeSchema = z.enum(['netboot', 'iso', 'disk']);
export const installMethodSchema = z.enum(['nixos-anywhere', 'push', 'none']);
// generated: the node must present the host key the tool generated (handed to the
// guest through fw_cfg); a netboot image's own key only from this run's QEMU, until install.
// first-use: for images that ignore fw_cfg: the first key seen is pinned, a change is refused.
// What a node boots after its install: the installed system on its disk, or a blank netboot again.
export const afterInstallSchema = z.enum(['disk', 'netboot']);
// What boots a system installed on the disk (nixos-anywhere): SeaBIOS (QEMU's default BIOS) or OVMF (UEFI).
export const firmwareSchema = z.enum(['seabios', 'ovmf']);
export const hostKeyPolicySchema = z.enum(['generated', 'first-use']);

// A bastion a machine is reached through: the tool connects to it, then to the machine through a
// tunnel it opens. Its host key is pinned like a machine's: `hostKey` (SHA256:...), or the pins file
// (up --accept-new-host-keys pins the first key seen, under "jump user@host:port"). `user`: absent,
// the machine's user. The same key (ssh.keyPath) logs in on both.
export const jumpSchema = z.strictObject({
	host: z.string(),
	port: z.number().int().default(22),
	user: z.string().optional(),
	hostKey: z.string().optional(),
});

// A machine that already exists, reached over SSH (target ssh-hosts), directly or through `jump`.
export const nodeSshSchema = z.strictObject({
	host: z.string(),
	port: z.number().int().default(22),
	user: z.string().optional(),
	jump: jumpSchema.optional(),
});

// Where the nodes run: VMs this tool boots (qemu), or machines that already exist (ssh-hosts).
// One kind per profile: a profile mixing VMs and hosts is refused (profile-rules.ts).
export const targetSchema = z.discriminatedUnion('kind', [
	z.strictObject({kind: z.literal('qemu')}),
	z.strictObject({
		kind: z.literal('ssh-hosts'),
		// How long preflight waits for each host's SSH before naming it unreachable.
		connectTimeoutSec: z.number().int().default(15),
		// Free space preflight wants on each host's root file system.
		minFreeDiskMiB: z.number().int().default(256),
		// What `console NODE` follows on the host: this file, or (absent) the journal.
		consoleLog: z.string().optional(),
	}),
]);

export const nodeSchema = z.strictObject({
	name: z.string(),
	role: roleSchema.default('control-plane'),
	// Optional overrides; absent values are auto-assigned (see resolve.ts).
	hostname: z.string().optional(),
	ip: z.string().optional(),
	mac: z.string().optional(),
	sshPort: z.number().int().optional(),
	// The node's port on the cluster switch (1..32, vde_switch's default port count); kept by `node remove`.
	switchPort: z.number().int().min(1).max(32).optional(),
	vcpus: z.number().int().optional(),
	memoryMiB: z.number().int().optional(),
	diskGiB: z.number().int().optional(),
	// Target ssh-hosts only: how the machine is reached (model/ssh-hosts-plan.ts).
	ssh: nodeSshSchema.optional(),
	// Target ssh-hosts only: the disk nixos-anywhere erases, e.g. /dev/disk/by-id/nvme-... (disko's device).
	installDisk: z.string().optional(),
});

export const networkSchema = z.strictObject({
	subnet: z.string().default('192.168.100.0/24'),
	// First node gets subnet network address + hostOffset (T036: .11, .12, .13).
	hostOffset: z.number().int().default(11),
	gateway: z.string().optional(),
	// Three octets after 52:54:00 are <macPrefix>:<node index>. Absent: derived from the profile name.
	macPrefix: z.string().optional(),
	sshPortBase: z.number().int().default(2201),
	vdeSocket: z.string().optional(),
	// Plug each node into the switch through its own wirefilter (and a small switch of its own), so
	// `fault delay|jitter|loss|bandwidth` can change its link at run time. Off: two processes fewer per node.
	impairment: z.boolean().default(false),
});

export const bootSchema = z.strictObject({
	mode: bootModeSchema.default('netboot'),
	// `image: 'demo'` takes kernel and initrd from the project's demo image cache.
	image: z.enum(['demo', 'custom', 'nix']).default('custom'),
	kernel: z.string().optional(),
	initrd: z.string().optional(),
	iso: z.string().optional(),
	diskImage: z.string().optional(),
	nixAttr: z.string().optional(),
	// Added to `nix build` of boot.nixAttr, e.g. ["--option", "substituters", ""] to build offline.
	nixBuildArgs: z.array(z.string()).default([]),
	append: z.string().default('console=ttyS0'),
	accel: accelSchema.default('auto'),
	readyPattern: z.string().optional(),
	// A console line that says the node will not come up: its wait ends at once, with the line as the reason.
	failPattern: z.string().optional(),
	sshTimeoutSec: z.number().int().default(240),
	stallSec: z.number().int().default(60),
	// disk: an installed node boots what its install wrote (its identity, its data); the demo image
	// still loads its kernel by -kernel and mounts the disk (plasma.boot=disk). netboot: blank again.
	afterInstall: afterInstallSchema.default('disk'),
	// The firmware that boots an installed system from its disk (no -kernel): seabios or ovmf.
	firmware: firmwareSchema.default('seabios'),
});

export const sshSchema = z.strictObject({
	user: z.string().default('root'),
	// Absent: a per-profile ed25519 key under the work directory.
	keyPath: z.string().optional(),
	// Pinned host keys, `SHA256:...` by node name, set on first contact.
	hostKeys: z.record(z.string(), z.string()).default({}),
	hostKeyPolicy: hostKeyPolicySchema.default('generated'),
});

export const tlsSchema = z.strictObject({
	caSubject: z.string().default('CN=plasma-tui CA'),
	keyType: keyTypeSchema.default('ecdsa-p256'),
	validityDays: z.number().int().default(365),
	existingCa: z.strictObject({cert: z.string(), key: z.string()}).optional(),
	fileNames: z
		.strictObject({
			ca: z.string().default('ca.crt'),
			cert: z.string().default('{node}.crt'),
			key: z.string().default('{node}.key'),
		})
		.prefault({}),
	// Where the node's secrets live on the node itself.
	remoteDir: z.string().default('/etc/nixos/secrets'),
});

export const pushFileSchema = z.strictObject({
	src: z.string(),
	dest: z.string(),
	mode: z.string().default('0644'),
	// Only nodes of these roles get the file; absent: every node.
	roles: rolesSchema,
});

// A push command: text run on every node, or `{run, roles}` run only on nodes of those roles
// (the demo starts an etcd member on control planes and an etcd proxy on workers).
export const pushCommandSchema = z.union([z.string(), z.strictObject({run: z.string(), roles: z.array(roleSchema)})]);

export const installSchema = z.strictObject({
	method: installMethodSchema.default('none'),
	concurrency: z.number().int().default(3),
	timeoutSec: z.number().int().default(1800),
	nixosAnywhere: z
		.strictObject({
			flake: z.string().default('.'),
			// The program run as nixos-anywhere, with its argv: a name on the PATH, a path (relative to the
			// current directory), or `{package}/...` for one shipped with plasma-tui, e.g.
			// {package}/image/nixos-anywhere-standin.mjs, the demo's stand-in.
			command: z.string().default('nixos-anywhere'),
			extraArgs: z.array(z.string()).default([]),
			// nixos-anywhere erases the disk: on existing machines (target ssh-hosts) it runs only with this set.
			allowWipe: z.boolean().optional(),
		})
		.prefault({}),
	// Where the flake's NixOS module takes what configuration.nix sets (a flake defines these options
	// itself, nixpkgs has none of them): an attribute path, or null to leave the setting out.
	nixos: z
		.strictObject({
			tlsOptionPath: z.string().nullable().default('plasma.tls'),
			clusterConfigOptionPath: z.string().nullable().default('plasma.clusterConfig'),
		})
		.prefault({}),
	push: z
		.strictObject({
			files: z.array(pushFileSchema).default([]),
			commands: z.array(pushCommandSchema).default([]),
			// Target ssh-hosts: what `down` runs to stop what the commands started (machines are never powered off).
			uninstall: z.array(pushCommandSchema).default([]),
		})
		.prefault({}),
});

// One form per check type, each defined in its own file under services/checks/.
export const checkSchema = CHECKS.schema;

export const profileSchema = z.strictObject({
	version: z.literal(PROFILE_VERSION).default(PROFILE_VERSION),
	name: z.string(),
	description: z.string().default(''),
	cluster: z
		.strictObject({
			name: z.string().default('plasma'),
			domain: z.string().default('cluster.local'),
		})
		.prefault({}),
	defaults: z
		.strictObject({
			vcpus: z.number().int().default(1),
			memoryMiB: z.number().int().default(512),
			diskGiB: z.number().int().default(1),
		})
		.prefault({}),
	target: targetSchema.prefault({kind: 'qemu'}),
	network: networkSchema.prefault({}),
	nodes: z.array(nodeSchema),
	boot: bootSchema.prefault({}),
	ssh: sshSchema.prefault({}),
	tls: tlsSchema.prefault({}),
	install: installSchema.prefault({}),
	checks: z.array(checkSchema).default([]),
	workDir: z.string().optional(),
});

export type Profile = z.infer<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
export type NodeSpec = z.infer<typeof nodeSchema>;
export type Target = z.infer<typeof targetSchema>;
export type NodeSshSpec = z.infer<typeof nodeSshSchema>;
export type JumpSpec = z.infer<typeof jumpSchema>;
export type {NodeRole} from './node-role.js';
export type PushCommand = z.infer<typeof pushCommandSchema>;
export type KeyType = z.infer<typeof keyTypeSchema>;
export type Accel = z.infer<typeof accelSchema>;
export type InstallMethod = z.infer<typeof installMethodSchema>;
export type AfterInstall = z.infer<typeof afterInstallSchema>;
export type Firmware = z.infer<typeof firmwareSchema>;
export type HostKeyPolicy = z.infer<typeof hostKeyPolicySchema>;
export type CheckSpec = z.infer<typeof checkSchema>;
export type CheckType = CheckSpec['type'];
