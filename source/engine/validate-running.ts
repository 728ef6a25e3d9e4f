import type {CheckSpec, Profile} from '../model/profile-schema.js';
import type {NodePlan, Plan} from '../model/plan.js';
import {nodeWaitReporter, type NodePhase, type RunEventListener} from '../model/events.js';
import {StateStore} from '../services/state.js';
import {waitForSsh, type NodeSsh} from '../services/ssh.js';
import {NodePhases} from './node-phases.js';
import {sshTargetFor} from './up.js';
import {validateCluster, type Arrival, type Report} from './validation.js';

// Validates a cluster that is already running: the validate stage of `up` and
// the `validate` command both come here. Every node goes validating, then
// healthy or failed with its reason, in the events and in the state file.

export type ValidateRunningOptions = {
	// The checks to run (all of the profile's, or the ones `--only` picked).
	checks: CheckSpec[];
	onEvent: RunEventListener;
	signal?: AbortSignal;
	// The run's state file; opened from the plan when the caller has none.
	state?: StateStore;
	// The run's node phases (up); else they start from the state file's.
	phases?: NodePhases;
	// Open sessions of the caller (up, after install): used, left open. Nodes without one are connected here.
	sessions?: Map<string, NodeSsh>;
	// validate --timeout: caps the SSH wait (else the profile's boot.sshTimeoutSec) and each check's timeout.
	timeoutCapMs?: number;
	// Nodes that failed before validation (up: boot or install), with the reason: not connected to,
	// their checks reported as not run, their phase left as it is.
	notRun?: Record<string, string>;
	// up: each node as its install ends (its session, or why it did not finish); its checks start then.
	// Instead of sessions and notRun.
	arrivals?: Map<string, Promise<NodeArrival>>;
	// Written into the report: a rerun of up trusts a green report of the same plan.
	planDigest?: string;
	// false: the caller writes the report (a rerun of up merges it with the last one).
	writeReport?: boolean;
};

export type NodeArrival = {ssh?: NodeSsh; notRun?: string};

export type ValidateRunningResult = {
	// Undefined when no node answered on SSH: nothing was checked.
	report?: Report;
	phases: Record<string, NodePhase>;
};

export async function validateRunning(profile: Profile, plan: Plan, options: ValidateRunningOptions): Promise<ValidateRunningResult> {
	const emit = options.onEvent;
	const state = options.state ?? (await StateStore.open(plan.stateFile, profile.name, plan.workDir));
	const nodePhases =
		options.phases ??
		new NodePhases(
			plan.nodes.map(n => n.name),
			emit,
			state,
			Object.fromEntries(Object.entries(state.current.nodes).map(([name, entry]) => [name, entry.phase])),
		);
	const setPhase = (node: string, phase: NodePhase, reason?: string) => nodePhases.set(node, phase, reason);
	const phases = (): Record<string, NodePhase> => Object.fromEntries(plan.nodes.map(n => [n.name, nodePhases.of(n.name)]));
	const sshTimeoutMs = Math.min(profile.boot.sshTimeoutSec * 1000, options.timeoutCapMs ?? Infinity);
	const opened: NodeSsh[] = [];
	// What is up is validated: the others' checks are reported as not run, with why.
	const notRun: Record<string, string> = {...options.notRun};
	const validated = plan.nodes.filter(n => notRun[n.name] === undefined);
	// A node left out keeps the phase and reason that left it out.
	const settlePhases = async (report: Report) => {
		for (const node of plan.nodes.filter(n => notRun[n.name] === undefined)) {
			const failures = report.results.filter(r => r.node === node.name && r.status !== 'ok');
			await setPhase(node.name, failures.length === 0 ? 'healthy' : 'failed', failures.length === 0 ? undefined : failures.map(r => `${r.check}: ${r.reason}`).join('; '));
		}
	};
	// A node coming from up's install: validating from then on, on the session up holds (or a new one).
	const arriveAt = async (node: NodePlan, coming: Promise<NodeArrival> | undefined): Promise<Arrival> => {
		const arrival = (await coming) ?? {notRun: `${node.name} did not finish`};
		if (arrival.notRun !== undefined || !arrival.ssh) {
			notRun[node.name] = arrival.notRun ?? `${node.name} did not finish`;
			return {notRun: notRun[node.name]!};
		}
		await setPhase(node.name, 'validating');
		if (!arrival.ssh.closed) return {ssh: arrival.ssh};
		try {
			const ssh = await waitForSsh(sshTargetFor(plan, node), {timeoutMs: sshTimeoutMs, signal: options.signal, onWait: nodeWaitReporter(emit, node.name, `ssh on 127.0.0.1:${node.sshPort}`)});
			opened.push(ssh);
			return {ssh};
		} catch (error) {
			options.signal?.throwIfAborted();
			notRun[node.name] = `${node.name} is not reachable over SSH: ${(error as Error).message}`;
			await setPhase(node.name, 'failed', `not reachable over SSH: ${(error as Error).message}`);
			return {notRun: notRun[node.name]!};
		}
	};
	try {
		if (options.arrivals) {
			const arrivals = new Map(plan.nodes.map(node => [node.name, arriveAt(node, options.arrivals!.get(node.name))]));
			const report = await validateCluster(profile, plan, {arrivals, checks: options.checks, onEvent: emit, signal: options.signal, timeoutCapMs: options.timeoutCapMs, planDigest: options.planDigest, writeReport: options.writeReport});
			await settlePhases(report);
			return {report, phases: phases()};
		}
		for (const node of validated) await setPhase(node.name, 'validating');
		const reached = await reachNodes(plan, validated, {
			timeoutMs: sshTimeoutMs,
			signal: options.signal,
			held: options.sessions,
			onWait: node => nodeWaitReporter(emit, node.name, `ssh on 127.0.0.1:${node.sshPort}`),
			onUnreachable: async (node, message) => {
				notRun[node.name] = `${node.name} is not reachable over SSH: ${message}`;
				await setPhase(node.name, 'failed', `not reachable over SSH: ${message}`);
			},
		});
		opened.push(...reached.opened);
		const {connections, waits} = reached;
		options.signal?.throwIfAborted();
		const broken = waits.find(wait => wait.status === 'rejected');
		if (broken) throw broken.reason;
		// Nothing answers: nothing to report (validate says so); a run whose nodes all failed reports every check as not run.
		if (connections.size === 0 && options.notRun === undefined) return {phases: phases()};

		const report = await validateCluster(profile, plan, {connections, checks: options.checks, onEvent: emit, signal: options.signal, timeoutCapMs: options.timeoutCapMs, notRun, planDigest: options.planDigest, writeReport: options.writeReport});
		await settlePhases(report);
		return {report, phases: phases()};
	} finally {
		for (const ssh of opened) ssh.close();
	}
}

export type ReachedNodes = {
	connections: Map<string, NodeSsh>;
	// The sessions opened here (the caller closes them); held ones are only reused.
	opened: NodeSsh[];
	// Nodes that did not answer within timeoutMs, with why.
	unreachable: Record<string, string>;
	waits: PromiseSettledResult<void>[];
};

// One SSH session per node, in parallel: a held session that is still open is
// reused, the others are connected within timeoutMs. Settled, not Promise.all:
// on an abort, no session may open after the caller has closed the others.
export async function reachNodes(
	plan: Plan,
	nodes: readonly NodePlan[],
	options: {timeoutMs: number; signal?: AbortSignal; held?: Map<string, NodeSsh>; onWait?: (node: NodePlan) => (info: {lastError?: string; elapsedMs: number}) => void; onUnreachable?: (node: NodePlan, message: string) => Promise<void> | void},
): Promise<ReachedNodes> {
	const connections = new Map<string, NodeSsh>();
	const opened: NodeSsh[] = [];
	const unreachable: Record<string, string> = {};
	const waits = await Promise.allSettled(
		nodes.map(async node => {
			const held = options.held?.get(node.name);
			if (held && !held.closed) return void connections.set(node.name, held);
			try {
				const ssh = await waitForSsh(sshTargetFor(plan, node), {timeoutMs: options.timeoutMs, signal: options.signal, onWait: options.onWait?.(node)});
				opened.push(ssh);
				connections.set(node.name, ssh);
			} catch (error) {
				if (options.signal?.aborted) return;
				unreachable[node.name] = (error as Error).message;
				await options.onUnreachable?.(node, (error as Error).message);
			}
		}),
	);
	return {connections, opened, unreachable, waits};
}
