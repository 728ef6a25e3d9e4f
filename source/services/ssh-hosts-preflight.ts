import type {NodePlan, Plan} from '../model/plan.js';
import {problemOf} from '../model/field-error.js';
import {l2MeshCheck} from './checks/l2-mesh.js';
import {shellQuote} from './shell-quote.js';
import type {Finding} from './preflight.js';
import {jumpAddress, jumpPinName} from '../model/ssh-hosts-jump.js';
import {sshHostAddress} from '../model/ssh-hosts-plan.js';
import {HostKeyMismatchError, HostKeyUnknownError, NodeSsh, pinHostKey, pinnedKeyFor, presentedHostKey, presentedHostKeyOf, type SshTarget} from './ssh.js';

// Preflight of machines that already exist (target ssh-hosts): instead of
// QEMU, KVM and free ports on this host, each machine must answer, present the
// host key the profile pins (or one accepted with --accept-new-host-keys, said
// aloud), run Linux with room on its root file system, and reach every other
// node's cluster IP (the l2-mesh check, run before anything is installed).

export type HostsPreflight = {
	findings: Finding[];
	// Open sessions of the nodes that passed: the install and the checks go on using them.
	sessions: Map<string, NodeSsh>;
	// Host keys pinned by this preflight (--accept-new-host-keys), to print.
	accepted: Array<{node: string; where: string; fingerprint: string}>;
};

// Every SSH use on an existing machine goes through here: preflight, install, checks, console, down.
export function hostTarget(plan: Pick<Plan, 'ssh'>, node: NodePlan): SshTarget {
	const host = node.sshHost!;
	const keys = {privateKeyPath: plan.ssh.privateKey, pinStorePath: plan.ssh.knownHosts, policy: 'first-use', pinRequired: true} as const;
	const jump: SshTarget | undefined = host.jump ? {...keys, node: jumpPinName(host.jump), host: host.jump.host, port: host.jump.port, username: host.jump.user, pinned: host.jump.hostKey} : undefined;
	return {...keys, node: node.name, host: host.host, port: host.port, username: host.user, pinned: node.pinnedHostKey, ...(jump ? {jump} : {})};
}

function whereOf(node: NodePlan): string {
	return sshHostAddress(node.sshHost!);
}

const CHECK_ON_MACHINE = 'check the fingerprint on the machine itself (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)';

// Host keys the operator confirmed (the TUI's overlay), by pin name (a node, or "jump user@host:port"):
// each is the only key accepted where none is pinned yet, and is pinned once the session is open.
export type ApprovedHostKeys = Record<string, string>;

// A key that would be pinned on first use: what the TUI lists before it asks.
export type NewHostKey = {name: string; where: string; fingerprint: string};

type ReachOptions = {acceptNewHostKeys: boolean; approved: ApprovedHostKeys; timeoutMs: number; signal?: AbortSignal};

// The key pinned for a target (profile or pins file), else the one the operator approved for it.
async function trustOf(target: SshTarget, approved: ApprovedHostKeys): Promise<{known?: string; approved?: string}> {
	const known = await pinnedKeyFor(target);
	return {known, approved: known ? undefined : approved[target.node]};
}

// The targets of one machine with what is trusted so far: its bastion's, then its own.
async function trustedTargets(plan: Plan, node: NodePlan, options: Pick<ReachOptions, 'acceptNewHostKeys' | 'approved'>) {
	const direct = hostTarget(plan, node);
	const pinRequired = !options.acceptNewHostKeys;
	const jumpTrust = direct.jump ? await trustOf(direct.jump, options.approved) : undefined;
	const jump: SshTarget | undefined = direct.jump ? {...direct.jump, pinRequired, ...(jumpTrust?.approved ? {pinned: jumpTrust.approved} : {})} : undefined;
	const trust = await trustOf(direct, options.approved);
	const target: SshTarget = {...direct, pinRequired, ...(trust.approved ? {pinned: trust.approved} : {}), ...(jump ? {jump} : {})};
	return {direct, target, trust, jump, jumpTrust};
}

// Reaches one machine within the target's connect timeout: a refused or silent port is named, not waited for.
async function reachHost(plan: Plan, node: NodePlan, options: ReachOptions): Promise<{ssh?: NodeSsh; finding: Finding; accepted?: string; jumpAccepted?: string}> {
	const id = `host:${node.name}`;
	const where = whereOf(node);
	// The one place a machine's (or its bastion's) first key may be pinned: up with
	// --accept-new-host-keys, or keys the operator confirmed one by one.
	const {direct, target, trust, jump, jumpTrust} = await trustedTargets(plan, node, options);
	const at = `nodes[${plan.nodes.indexOf(node)}]`;
	const how = options.acceptNewHostKeys ? '--accept-new-host-keys' : 'confirmed by the operator';
	if (jump && !jumpTrust?.known && !jumpTrust?.approved && !options.acceptNewHostKeys) {
		const presented = await presentedHostKey(jump.host, jump.port, {timeoutMs: options.timeoutMs, signal: options.signal}).catch((error: Error) => `nothing (${error.message})`);
		return {finding: {id, status: 'fail', message: `${node.name}: no host key is pinned for its bastion ${jumpAddress(node.sshHost!.jump!)}; it presents ${presented}`, fix: `${CHECK_ON_MACHINE.replace('the machine', 'the bastion')} and set it as ${at}.ssh.jump.hostKey, or run up with --accept-new-host-keys to pin the first key seen`}};
	}
	if (!trust.known && !trust.approved && !options.acceptNewHostKeys) {
		const presented = await presentedHostKeyOf(target, {timeoutMs: options.timeoutMs, signal: options.signal}).catch((error: Error) => `nothing (${error.message})`);
		return {finding: {id, status: 'fail', message: `${node.name}: no host key is pinned for ${where}; it presents ${presented}`, fix: `${CHECK_ON_MACHINE} and add it to ssh.hostKeys["${node.name}"], or run up with --accept-new-host-keys to pin the first key seen`}};
	}
	try {
		const ssh = await NodeSsh.connect(target, {timeoutMs: options.timeoutMs, signal: options.signal});
		// A confirmed key was checked as if pinned: now it is.
		if (jumpTrust?.approved) await pinHostKey(direct.jump!, jumpTrust.approved);
		if (trust.approved) await pinHostKey(direct, trust.approved);
		const accepted = trust.known ? undefined : ssh.hostKey;
		const jumpAccepted = jump && !jumpTrust?.known ? (jumpTrust?.approved ?? (await pinnedKeyFor(jump))) : undefined;
		const via = jump ? `, through its bastion (host key ${jumpTrust?.known ?? `${jumpAccepted} accepted now: ${how}`})` : '';
		return {ssh, accepted, jumpAccepted, finding: {id, status: 'ok', message: `${node.name}: ${where} answers with host key ${ssh.hostKey} (${accepted ? `accepted now: ${how}` : ssh.hostKeyTrust})${via}`}};
	} catch (error) {
		if (error instanceof HostKeyMismatchError || error instanceof HostKeyUnknownError) return {finding: {id, status: 'fail', message: error.problem.message, fix: error.problem.fix}};
		const problem = problemOf(error);
		return {finding: {id, status: 'fail', message: `${node.name}: ${where} is unreachable (connect timeout ${Math.round(options.timeoutMs / 1000)} s): ${problem.message}`, fix: `check that the machine is up and that ${where} is its SSH address and port (nodes[].ssh), and that this host's key ${plan.ssh.publicKey} is in its authorized_keys`}};
	}
}

// The keys up would have to pin on first use (bastions first), as the machines present them now;
// nothing is pinned. A machine that does not answer is left out: preflight names it.
export async function newHostKeys(plan: Plan, options: {signal?: AbortSignal} = {}): Promise<NewHostKey[]> {
	if (plan.target.kind !== 'ssh-hosts') return [];
	const timeoutMs = plan.target.connectTimeoutSec * 1000;
	const found = new Map<string, NewHostKey>();
	await Promise.all(plan.nodes.map(async node => {
		const {target, trust, jump, jumpTrust} = await trustedTargets(plan, node, {acceptNewHostKeys: false, approved: {}});
		let jumpKey = jumpTrust?.known;
		if (jump && !jumpKey) {
			jumpKey = await presentedHostKey(jump.host, jump.port, {timeoutMs, signal: options.signal}).catch(() => undefined);
			if (jumpKey) found.set(jump.node, {name: jump.node, where: jumpAddress(node.sshHost!.jump!), fingerprint: jumpKey});
		}
		if (trust.known || (jump && !jumpKey)) return;
		// Behind a bastion, through it, holding it to the key just seen.
		const fingerprint = await presentedHostKeyOf({...target, ...(jump ? {jump: {...jump, pinned: jumpKey}} : {})}, {timeoutMs, signal: options.signal}).catch(() => undefined);
		if (fingerprint) found.set(node.name, {name: node.name, where: whereOf(node), fingerprint});
	}));
	return [...found.values()].sort((a, b) => Number(b.name.startsWith('jump ')) - Number(a.name.startsWith('jump ')) || a.name.localeCompare(b.name));
}

// uname and os-release: a machine the install cannot run on is named before anything is pushed.
async function systemFindings(node: NodePlan, ssh: NodeSsh, minFreeMiB: number): Promise<Finding[]> {
	const findings: Finding[] = [];
	// A machine without /etc/os-release (an initramfs) still says what its kernel is.
	const os = await ssh.exec('uname -srm && { (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || true; }', {timeoutMs: 15_000});
	const [kernel = '', release = ''] = os.stdout.trim().split('\n');
	findings.push(
		os.code === 0 && kernel.startsWith('Linux')
			? {id: `os:${node.name}`, status: 'ok', message: `${node.name}: ${kernel}${release ? `, ${release}` : ''}`}
			: {id: `os:${node.name}`, status: 'fail', message: `${node.name}: not a Linux system (uname says "${kernel || os.stderr.trim()}")`, fix: 'the install expects Linux; point nodes[].ssh at the right machine'},
	);
	// An initramfs root is not in the mount table: its /tmp (the same memory) is asked then.
	const df = await ssh.exec('df -Pk / 2>/dev/null || df -Pk /tmp', {timeoutMs: 15_000});
	const availableKiB = Number(df.stdout.trim().split('\n').at(-1)?.trim().split(/\s+/)[3]);
	if (df.code !== 0 || !Number.isFinite(availableKiB)) {
		findings.push({id: `disk:${node.name}`, status: 'warn', message: `${node.name}: free disk unknown (df -Pk / said: ${(df.stderr || df.stdout).trim().split('\n')[0]})`});
	} else {
		const freeMiB = Math.floor(availableKiB / 1024);
		findings.push(
			freeMiB >= minFreeMiB
				? {id: `disk:${node.name}`, status: 'ok', message: `${node.name}: ${freeMiB} MiB free on /`}
				: {id: `disk:${node.name}`, status: 'fail', message: `${node.name}: only ${freeMiB} MiB free on /, ${minFreeMiB} MiB wanted`, fix: 'free space on the machine, or lower target.minFreeDiskMiB'},
		);
	}
	if (node.install.method === 'nixos-anywhere' && node.installDisk) findings.push(await installDiskFinding(node, ssh, node.installDisk));
	return findings;
}

// The disk nixos-anywhere will erase: it exists on this machine and is as big as the layout was made for.
async function installDiskFinding(node: NodePlan, ssh: NodeSsh, disk: string): Promise<Finding> {
	const id = `install-disk:${node.name}`;
	// sysfs counts 512-byte sectors whatever the disk's own sector size; no lsblk or blockdev needed.
	const read = await ssh.exec(`d=$(readlink -f ${shellQuote(disk)}) && [ -b "$d" ] && cat "/sys/class/block/\${d##*/}/size"`, {timeoutMs: 15_000});
	const sectors = Number(read.stdout.trim());
	if (read.code !== 0 || !Number.isFinite(sectors) || read.stdout.trim() === '') {
		return {id, status: 'fail', message: `${node.name}: ${disk} is not a block device on ${node.sshHost!.host}`, fix: 'set nodes[].installDisk to the disk to erase, as ls -l /dev/disk/by-id/ names it on the machine'};
	}
	const gib = Math.floor((sectors * 512) / 2 ** 30);
	return gib >= node.diskGiB
		? {id, status: 'ok', message: `${node.name}: ${disk} is ${gib} GiB (the layout is for ${node.diskGiB} GiB)`}
		: {id, status: 'fail', message: `${node.name}: ${disk} is ${gib} GiB, smaller than nodes[].diskGiB ${node.diskGiB} GiB the layout is for`, fix: `set nodes[].diskGiB to ${gib} or less, or point installDisk at the right disk`};
}

export async function preflightHosts(plan: Plan, options: {acceptNewHostKeys?: boolean; approvedHostKeys?: ApprovedHostKeys; signal?: AbortSignal} = {}): Promise<HostsPreflight> {
	if (plan.target.kind !== 'ssh-hosts') throw new Error('preflightHosts is for target ssh-hosts');
	const {connectTimeoutSec, minFreeDiskMiB} = plan.target;
	const timeoutMs = connectTimeoutSec * 1000;
	const reached = await Promise.all(plan.nodes.map(node => reachHost(plan, node, {acceptNewHostKeys: options.acceptNewHostKeys === true, approved: options.approvedHostKeys ?? {}, timeoutMs, signal: options.signal})));
	const findings = reached.map(r => r.finding);
	const sessions = new Map<string, NodeSsh>();
	const accepted: HostsPreflight['accepted'] = [];
	reached.forEach((r, index) => {
		const node = plan.nodes[index]!;
		if (r.ssh) sessions.set(node.name, r.ssh);
		if (r.accepted) accepted.push({node: node.name, where: whereOf(node), fingerprint: r.accepted});
		const jump = node.sshHost!.jump;
		// A bastion several machines go through is said once.
		if (r.jumpAccepted && jump && !accepted.some(a => a.node === jumpPinName(jump))) accepted.push({node: jumpPinName(jump), where: jumpAddress(jump), fingerprint: r.jumpAccepted});
	});
	const answered = plan.nodes.filter(n => sessions.has(n.name));
	for (const node of answered) findings.push(...(await systemFindings(node, sessions.get(node.name)!, minFreeDiskMiB)));
	// The cluster network first, not minutes into the validate stage: every machine pings every other's cluster IP.
	if (answered.length === plan.nodes.length && answered.length > 1) {
		const access = answered.map(node => ({node, ssh: sessions.get(node.name)!}));
		const spec = {type: 'l2-mesh', timeoutSec: connectTimeoutSec} as Parameters<typeof l2MeshCheck.run>[0];
		const mesh = await Promise.all(access.map(async ({node, ssh}): Promise<Finding> => {
			try {
				const seen = await l2MeshCheck.run(spec, {plan, nodes: access, node, ssh, timeoutMs, signal: options.signal});
				return {id: `l2-mesh:${node.name}`, status: 'ok', message: `${node.name}: ${seen} on the cluster network`};
			} catch (error) {
				return {id: `l2-mesh:${node.name}`, status: 'fail', message: `${node.name}: ${problemOf(error).message}`, fix: 'the cluster IPs (nodes[].ip) must be on one network the machines share; check addresses, VLANs and firewalls'};
			}
		}));
		findings.push(...mesh);
	}
	return {findings, sessions, accepted};
}
