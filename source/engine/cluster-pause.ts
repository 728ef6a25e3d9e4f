import type {NodePlan, Plan} from '../model/plan.js';
import {ProblemError} from '../model/field-error.js';
import type {QmpEvent} from '../services/qmp.js';
import {QmpClient} from '../services/qmp.js';
import {nodePid} from '../services/qemu.js';
import type {SnapshotOperation, StateStore} from '../services/state.js';

// The pieces a whole-cluster snapshot is made of: a monitor on every node,
// every node paused at (nearly) one instant and resumed together, and the
// operation written to the state file before each step.

// pausedByUs: this operation paused it (a node frozen by a fault was paused before and stays so).
export type NodeMonitor = {node: NodePlan; qmp: QmpClient; pausedByUs?: boolean};

// Every node of the plan with its QMP monitor; refuses (naming them) when a node does not run.
export async function connectMonitors(plan: Plan): Promise<NodeMonitor[]> {
	const found = await Promise.all(
		plan.nodes.map(async node => {
			if (!(await nodePid(node, plan))) return {node, why: `${node.name} is not running`};
			try {
				return {node, qmp: await QmpClient.connect(node.runtime.qmpSocket, 3000)};
			} catch (error) {
				return {node, why: `${node.name}: ${(error as Error).message}`};
			}
		}),
	);
	const missing = found.filter(f => f.why !== undefined);
	if (missing.length > 0) {
		for (const f of found) f.qmp?.close();
		throw new ProblemError({
			message: `every node must run: ${missing.map(f => f.why).join('; ')}`,
			fix: missing.length === plan.nodes.length ? `start the cluster (plasma-tui up --profile ${plan.profileName}, or up --from-snapshot NAME after a down)` : `start the missing node(s), or bring the cluster up again`,
		});
	}
	return found.map(f => ({node: f.node, qmp: f.qmp!}));
}

export function closeMonitors(monitors: readonly NodeMonitor[]): void {
	for (const m of monitors) m.qmp.close();
}

const EVENT_TIMEOUT_MS = 10_000;

function eventMs(event: QmpEvent): number {
	return event.timestamp ? event.timestamp.seconds * 1000 + event.timestamp.microseconds / 1000 : Date.now();
}

// Sends one command to every node at once and reads when each QEMU did it (its own event time).
async function allAtOnce(monitors: readonly NodeMonitor[], command: 'stop' | 'cont', event: 'STOP' | 'RESUME'): Promise<number[]> {
	const states = await Promise.all(monitors.map(m => m.qmp.runState()));
	const want = command === 'stop' ? (s: string) => s === 'running' : (s: string) => s !== 'running';
	const acting = monitors.filter((m, index) => want(states[index]!) && (command === 'stop' || m.pausedByUs === true));
	if (command === 'stop') for (const m of acting) m.pausedByUs = true;
	const events = acting.map(m => m.qmp.waitForEvent(event, EVENT_TIMEOUT_MS));
	// Timed out listeners are not left behind: every wait settles.
	const sent = await Promise.allSettled(acting.map(m => m.qmp.execute(command)));
	const times = await Promise.allSettled(events);
	if (command === 'cont') for (const [index, m] of acting.entries()) if (sent[index]!.status === 'fulfilled') m.pausedByUs = false;
	const failed = sent.findIndex(s => s.status === 'rejected');
	if (failed >= 0) throw new ProblemError({message: `${acting[failed]!.node.name}: ${command}: ${((sent[failed] as PromiseRejectedResult).reason as Error).message}`});
	return times.map(t => (t.status === 'fulfilled' ? eventMs(t.value) : Date.now()));
}

export type Pause = {firstAt: number; spreadMs: number};

export async function pauseAll(monitors: readonly NodeMonitor[]): Promise<Pause> {
	const times = await allAtOnce(monitors, 'stop', 'STOP');
	if (times.length === 0) return {firstAt: Date.now(), spreadMs: 0};
	return {firstAt: Math.min(...times), spreadMs: Math.max(...times) - Math.min(...times)};
}

// Resolves with when the last node ran again.
export async function resumeAll(monitors: readonly NodeMonitor[]): Promise<number> {
	const times = await allAtOnce(monitors, 'cont', 'RESUME');
	return times.length === 0 ? Date.now() : Math.max(...times);
}

// Runs one monitor step on every node at once; each node's outcome is recorded as it lands.
export async function onEveryNode<T>(monitors: readonly NodeMonitor[], step: (m: NodeMonitor) => Promise<T>): Promise<Array<{monitor: NodeMonitor; ok: true; value: T} | {monitor: NodeMonitor; ok: false; why: string}>> {
	const settled = await Promise.allSettled(monitors.map(step));
	return settled.map((s, index) => (s.status === 'fulfilled' ? {monitor: monitors[index]!, ok: true as const, value: s.value} : {monitor: monitors[index]!, ok: false as const, why: (s.reason as Error).message}));
}

// The operation in the state file: written before it starts, each node's step as it happens, removed when it ends.
export class OperationRecord {
	constructor(
		private readonly state: StateStore,
		readonly action: SnapshotOperation['action'],
		readonly name: string,
	) {}

	async begin(nodes: readonly string[], where: string): Promise<void> {
		await this.state.update(s => {
			s.snapshot = {action: this.action, name: this.name, startedAt: new Date().toISOString(), pid: process.pid, nodes: Object.fromEntries(nodes.map(n => [n, where]))};
		});
	}

	set(nodes: readonly string[], where: string): Promise<void> {
		return this.state.update(s => {
			for (const node of nodes) if (s.snapshot) s.snapshot.nodes[node] = where;
		});
	}

	end(): Promise<void> {
		return this.state.update(s => {
			delete s.snapshot;
		});
	}
}
