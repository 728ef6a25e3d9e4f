import type {NixosAnywhereReboot} from '../model/install-plan.js';
import type {NodePlan, Plan} from '../model/plan.js';
import {ProblemError} from '../model/field-error.js';
import {startNode, type NodeProcess} from '../services/qemu.js';
import {fingerprintOfPublicKeyFile} from '../services/ssh-keys.js';
import {HostKeyMismatchError, waitForSsh, type NodeSsh, type SshTarget} from '../services/ssh.js';
import type {StateStore} from '../services/state.js';
import {nodeGoneSignal, sshTargetFor} from './up.js';

// After nixos-anywhere: the node reboots into what it installed, and the engine reaches it again by
// plan. The key it must present is known before (the host key of the install's extra files); a VM
// whose first QEMU netbooted (-kernel, -no-reboot) ends with the guest's reboot, and its installed
// system is started in a new QEMU with qemuArgsInstalled (the firmware boots the disk).

// How long the guest may take to go down once nixos-anywhere has ended.
export const REBOOT_DOWN_TIMEOUT_MS = 120_000;

export type InstallRebootContext = {
	plan: Plan;
	node: NodePlan;
	reboot: NixosAnywhereReboot;
	// The QEMU the install ran in: its exit is the guest going down.
	first: {exited: Promise<unknown>};
	state: StateStore;
	sshTimeoutMs: number;
	signal?: AbortSignal;
	downTimeoutMs?: number;
	log: (line: string) => void;
	onWait?: Parameters<typeof waitForSsh>[1]['onWait'];
};

export type RebootedNode = {ssh: NodeSsh; expected: string; qemu?: NodeProcess};

// Only the key of the extra files: no netboot window, no pin from an earlier boot.
export function installedTarget(plan: Plan, node: NodePlan, reboot: NixosAnywhereReboot): SshTarget {
	return {...sshTargetFor(plan, node), pinned: undefined, netboot: undefined, policy: 'generated', generatedPublicKey: reboot.hostKeyPub};
}

export async function reconnectAfterInstall(ctx: InstallRebootContext): Promise<RebootedNode> {
	const {node} = ctx;
	const expected = await fingerprintOfPublicKeyFile(ctx.reboot.hostKeyPub);
	ctx.log(`after the install's reboot ${node.name} must present ${expected} (the host key of its extra files)`);
	let qemu: NodeProcess | undefined;
	if (ctx.reboot.restartsQemu) {
		const timeoutMs = ctx.downTimeoutMs ?? REBOOT_DOWN_TIMEOUT_MS;
		if (!(await endsWithin(ctx.first.exited, timeoutMs, ctx.signal))) {
			throw new ProblemError({
				message: `${node.name}: its QEMU still runs ${Math.round(timeoutMs / 1000)} s after nixos-anywhere ended: waited for the guest to go down for the install's reboot (QEMU runs with -no-reboot)`,
				fix: `read ${node.runtime.installLog} and ${node.runtime.consoleLog}: the install did not reboot the node`,
			});
		}
		ctx.signal?.throwIfAborted();
		ctx.log('down for the reboot; starting the installed system (the firmware boots the disk: qemuArgsInstalled)');
		qemu = await startNode(node, ctx.plan, ctx.state, ctx.signal, undefined, true);
		ctx.log(`QEMU started again (pid ${qemu.pid})`);
	}
	// The installed system's QEMU exiting ends the wait at once, like the first one's did.
	const signals = [ctx.signal, qemu ? nodeGoneSignal(qemu.exited, node.name) : undefined].filter((signal): signal is AbortSignal => signal !== undefined);
	try {
		const ssh = await waitForSsh(installedTarget(ctx.plan, node, ctx.reboot), {timeoutMs: ctx.sshTimeoutMs, signal: signals.length > 0 ? AbortSignal.any(signals) : undefined, onWait: ctx.onWait});
		return {ssh, expected, qemu};
	} catch (error) {
		throw refusedKey(node.name, error);
	}
}

// A different key after the reboot is refused, naming both.
export function refusedKey(name: string, error: unknown): unknown {
	if (!(error instanceof HostKeyMismatchError)) return error;
	return new ProblemError({
		message: `${name} presented host key ${error.presented} after the install's reboot, but ${error.expected} (the host key of the install's extra files) is expected: refusing to connect`,
		fix: `the installed system does not use /etc/ssh/ssh_host_ed25519_key from the extra files: check that the install copied them (install log), or find out who answers on 127.0.0.1 at the node's port`,
	});
}

async function endsWithin(exited: Promise<unknown>, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
	let timer: NodeJS.Timeout | undefined;
	const onAbort = new Promise<boolean>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason ?? new Error('aborted')), {once: true}));
	try {
		return await Promise.race([exited.then(() => true, () => true), new Promise<boolean>(resolve => (timer = setTimeout(() => resolve(false), timeoutMs))), onAbort]);
	} finally {
		clearTimeout(timer);
	}
}
