import type {Profile} from '../model/profile-schema.js';
import type {NodePlan, Plan} from '../model/plan.js';
import type {RunEventListener} from '../model/events.js';
import {nodeWaitReporter} from '../model/events.js';
import {CONTRACT_PARTS, type ContractPart, type ContractPartId} from '../model/guest-check.js';
import {HostKeyMismatchError, type NodeSsh, waitForSsh} from '../services/ssh.js';
import {bootCluster, type BootedNode, type BootResult} from './boot.js';
import {nodeGoneSignal, sshTargetFor} from './up.js';

// `doctor` on a custom image: boots the doctor's plan (one node, or two for the cluster IP), reads
// the guest contract off it part by part, and always stops what it started, whatever happened.

export type GuestCheckOptions = {
	onEvent: RunEventListener;
	signal?: AbortSignal;
	// How long the ready line and SSH may take, each.
	timeoutMs: number;
};

// Auth refusals are not a node that is still booting: a few in a row are the answer.
const AUTH_REFUSALS_BEFORE_VERDICT = 3;
const CLUSTER_PING_MS = 20_000;

export async function checkGuestContract(profile: Profile, plan: Plan, options: GuestCheckOptions): Promise<ContractPart[]> {
	const parts = new Map<ContractPartId, ContractPart>();
	const set = (id: ContractPartId, status: ContractPart['status'], reason: string, required = true) => parts.set(id, {id, title: CONTRACT_PARTS[id], status, reason, required});
	const {writeArtifacts} = await import('../services/artifacts.js');
	await writeArtifacts(plan);
	const sessions: NodeSsh[] = [];
	// Why a node failed, as the engine said it (the state file is written behind the events).
	const failures = new Map<string, string>();
	const onEvent: RunEventListener = event => {
		if (event.type === 'node-phase' && event.phase === 'failed') failures.set(event.node, event.reason ?? 'failed');
		options.onEvent(event);
	};
	const reasonOf = (node: NodePlan | undefined) => (node && failures.get(node.name)) ?? 'no reason given';
	let boot: BootResult | undefined;
	try {
		boot = await bootCluster(profile, plan, {onEvent, signal: options.signal, waitForReady: plan.boot.readyPattern !== undefined, readyTimeoutMs: options.timeoutMs});
		const [first, second] = plan.nodes;
		const a = first && boot.nodes.get(first.name);
		if (boot.interrupted || !first || !a) {
			set('ready-line', 'failed', boot.interrupted ? 'interrupted' : `${first?.name ?? 'the node'} did not start: ${reasonOf(first)}`);
			return [...parts.values()];
		}
		const readyLine = await settledValue(a.ready);
		if (!plan.boot.readyPattern) set('ready-line', 'skipped', 'boot.readyPattern is not set: nothing to look for (the SSH wait polls instead)', false);
		else if (readyLine !== undefined) set('ready-line', 'ok', `"${readyLine.trim()}" matched /${plan.boot.readyPattern}/`);
		else set('ready-line', 'failed', reasonOf(first));

		const failed = boot.phases[first.name] === 'failed';
		const ssh = failed ? undefined : await sshParts(plan, a, {...options, onEvent}, set);
		if (ssh) sessions.push(ssh);
		if (failed) for (const id of ['ssh', 'host-key', 'login'] as const) set(id, 'skipped', `not tried: ${first.name} failed (${reasonOf(first)})`, false);

		if (second) {
			const b = boot.nodes.get(second.name);
			if (!ssh) set('cluster-ip', 'skipped', `not tried: no SSH session on ${first.name}`, false);
			else if (!b || boot.phases[second.name] === 'failed') set('cluster-ip', 'failed', `${second.name} did not come up: ${reasonOf(second)}`);
			else {
				const reached = await pingFrom(ssh, second, options.signal);
				set('cluster-ip', reached.ok ? 'ok' : 'failed', reached.why);
			}
		} else set('cluster-ip', 'skipped', 'the profile has one node', false);
		return [...parts.values()];
	} finally {
		for (const session of sessions) session.close();
		if (boot) {
			boot.close();
			await boot.stopStarted();
		}
	}
}

// The host key is checked during the key exchange, before the login: an auth refusal means the key was right.
async function sshParts(plan: Plan, booted: BootedNode, options: GuestCheckOptions, set: (id: ContractPartId, status: ContractPart['status'], reason: string) => void): Promise<NodeSsh | undefined> {
	const {node} = booted;
	const where = `127.0.0.1:${node.sshPort}`;
	const refused = new AbortController();
	const signals = [nodeGoneSignal(booted.exited, node.name), booted.consoleFailed, refused.signal, ...(options.signal ? [options.signal] : [])];
	const report = nodeWaitReporter(options.onEvent, node.name, `ssh on ${where}`);
	let refusals = 0;
	try {
		const ssh = await waitForSsh(sshTargetFor(plan, node), {
			timeoutMs: options.timeoutMs,
			signal: AbortSignal.any(signals),
			wake: {promise: booted.ready},
			onWait: info => {
				report(info);
				refusals = / refused .* with the key /.test(info.lastError) ? refusals + 1 : 0;
				if (refusals >= AUTH_REFUSALS_BEFORE_VERDICT) refused.abort(new Error(info.lastError));
			},
		});
		set('ssh', 'ok', `answered on ${where}`);
		set('host-key', 'ok', `presented ${ssh.hostKey}, the key handed over by fw_cfg`);
		set('login', 'ok', `${plan.ssh.user} logged in with ${plan.ssh.privateKey}`);
		return ssh;
	} catch (error) {
		if (refused.signal.aborted) {
			set('ssh', 'ok', `answered on ${where}`);
			set('host-key', 'ok', 'the key handed over by fw_cfg (checked before the login)');
			set('login', 'failed', (refused.signal.reason as Error).message);
			return undefined;
		}
		if (error instanceof HostKeyMismatchError) {
			set('ssh', 'ok', `answered on ${where}`);
			set('host-key', 'failed', error.problem.message);
			// The login is still worth knowing: any key from this run's QEMU, for this one attempt.
			const login = await waitForSsh(sshTargetFor(plan, node, {pid: booted.pid, isOpen: () => true}), {timeoutMs: 30_000, signal: AbortSignal.any(signals)}).then(
				ssh => ({ssh, why: `${plan.ssh.user} logged in with ${plan.ssh.privateKey} (over the image's own host key)`}),
				(loginError: unknown) => ({ssh: undefined, why: (loginError as Error).message}),
			);
			set('login', login.ssh ? 'ok' : 'failed', login.why);
			return login.ssh;
		}
		const why = booted.consoleFailed.aborted ? (booted.consoleFailed.reason as Error).message : (error as Error).message;
		set('ssh', 'failed', why);
		return undefined;
	}
}

// ICMP first; an image without ping may still answer TCP on port 22 of its cluster IP.
async function pingFrom(ssh: NodeSsh, target: NodePlan, signal?: AbortSignal): Promise<{ok: boolean; why: string}> {
	const command = `ping -c 1 -W 2 ${target.ip} >/dev/null 2>&1 && echo icmp || { nc -z -w 2 ${target.ip} 22 >/dev/null 2>&1 && echo tcp; }`;
	const deadline = Date.now() + CLUSTER_PING_MS;
	let last = '';
	while (Date.now() < deadline) {
		signal?.throwIfAborted();
		const result = await ssh.exec(command, {timeoutMs: 10_000, signal}).catch((error: unknown) => ({code: null, stdout: '', stderr: (error as Error).message}));
		const how = result.stdout.trim();
		if (how === 'icmp' || how === 'tcp') return {ok: true, why: `${ssh.target.node} reached ${target.name} at ${target.ip} (${how === 'icmp' ? 'ping' : 'TCP port 22'})`};
		last = result.stderr.trim() || `exit ${result.code ?? 'unknown'}`;
		await new Promise(resolve => setTimeout(resolve, 1000));
	}
	return {ok: false, why: `${ssh.target.node} could not reach ${target.name} at ${target.ip} within ${CLUSTER_PING_MS / 1000} s by ping or TCP port 22 (${last})`};
}

// The value of a promise that has already resolved, else undefined (the ready line's promise never rejects).
async function settledValue<T>(promise: Promise<T>): Promise<T | undefined> {
	return Promise.race([promise, Promise.resolve(undefined)]);
}
