import {problemOf, ProblemError} from '../model/field-error.js';
import {assertVmTarget} from '../model/ssh-hosts-rules.js';
import {describeFault, endedWithQemu, takenBy, withImpairment, type ActiveFault, type FaultRequest, type Impairment} from '../model/fault.js';
import {membersDown} from '../model/node-membership.js';
import type {NodePlan, Plan} from '../model/plan.js';
import {runningNodes} from '../services/qemu.js';
import {quorumVerdict, type QuorumVerdict} from '../model/quorum.js';
import type {TimelineEntry} from '../model/timeline.js';
import {faultEvent} from '../model/fault-events.js';
import type {RunEventListener} from '../model/events.js';
import {setImpairment} from '../services/node-link.js';
import {applyPartition, healPartition, killNode, partitionVlans, qmpAction, setClusterLink, waitForNodeExit} from '../services/node-faults.js';
import {StateStore} from '../services/state.js';
import {appendTimeline} from '../services/timeline.js';

// Faults on a running cluster: each is recorded in the state file before it
// is applied (and dropped again if applying it failed), written to the
// timeline, and undone by heal / thaw, by `down` and by the next `up`.

export type FaultOptions = {
	// Go on when the quorum guard says the cluster loses quorum.
	force?: boolean;
	// The guard's verdict, before anything happens.
	onVerdict?: (verdict: QuorumVerdict) => void;
	state?: StateStore;
	// The nodes whose QEMU runs, when the caller knows them; read from their pidfiles otherwise.
	alive?: ReadonlySet<string>;
	// Each fault applied or undone, as the engine's events (a log line on the node's pane).
	onEvent?: RunEventListener;
};

export type FaultOutcome = {done: string[]; verdict?: QuorumVerdict};

const POWERDOWN_TIMEOUT_MS = 30_000;

export function controlPlaneNames(plan: Plan): string[] {
	return plan.nodes.filter(n => n.role === 'control-plane').map(n => n.name);
}

export async function openState(plan: Plan): Promise<StateStore> {
	return StateStore.open(plan.stateFile, plan.profileName, plan.workDir);
}

// The quorum guard's verdict on a request, given the members already down (membersDown).
export function guardVerdict(plan: Plan, request: FaultRequest, down: readonly string[]): QuorumVerdict | undefined {
	const members = controlPlaneNames(plan);
	const takes = takenBy(request, members);
	if (!['kill', 'freeze', 'powerdown', 'isolate', 'partition'].includes(request.action)) return undefined;
	const verb = {kill: 'killing', freeze: 'freezing', powerdown: 'powering down', isolate: 'isolating', partition: 'partitioning off'}[request.action as string]!;
	return quorumVerdict({members, alreadyDown: down, takes, verb});
}

function nodeOf(plan: Plan, name: string): NodePlan {
	const node = plan.nodes.find(n => n.name === name);
	if (!node) throw new ProblemError({message: `unknown node "${name}"`, fix: `one of ${plan.nodes.map(n => n.name).join(', ')}`});
	return node;
}

function entry(kind: 'fault' | 'heal', subject: string, detail: string, data?: TimelineEntry['data']): TimelineEntry {
	return {at: new Date().toISOString(), kind, subject, node: subject === 'cluster' ? undefined : subject, detail, data};
}

// A fault applied or undone: one timeline entry (here only: the event below is a log line,
// which no timeline recorder writes again) and one event for whoever shows the run.
async function told(plan: Plan, options: FaultOptions, kind: 'fault' | 'heal', subject: string, detail: string, data?: TimelineEntry['data']): Promise<void> {
	const line = entry(kind, subject, detail, data);
	await appendTimeline(plan.timelineFile, line);
	options.onEvent?.(faultEvent(line));
}

export async function applyFault(plan: Plan, request: FaultRequest, options: FaultOptions = {}): Promise<FaultOutcome> {
	assertVmTarget(plan.target, plan.profileName, `fault ${request.action}`);
	const state = options.state ?? (await openState(plan));
	const active = state.current.faults ?? [];
	const verdict = guardVerdict(plan, request, membersDown(plan, state.current, options.alive ?? (await runningNodes(plan))));
	if (verdict) options.onVerdict?.(verdict);
	if (verdict?.losesQuorum && !options.force) {
		throw new ProblemError({message: `refused: ${verdict.message}`, fix: 'add --force to do it anyway'});
	}
	if (request.action === 'thaw' || request.action === 'heal') return {done: await heal(plan, state, request, options), verdict};
	const at = new Date().toISOString();
	const timeline = (subject: string, detail: string, data?: TimelineEntry['data']) => told(plan, options, 'fault', subject, detail, data);

	if (request.action === 'partition') {
		if (active.some(f => f.kind === 'partition')) throw new ProblemError({message: 'a partition is already active', fix: 'plasma-tui fault heal first'});
		const fault: ActiveFault = {kind: 'partition', groups: request.groups, vlans: partitionVlans(request.groups), at};
		await recorded(state, f => f.kind === 'partition', fault, () => applyPartition(plan, fault.groups, fault.vlans));
		await timeline('cluster', describeFault(fault));
		return {done: [describeFault(fault)], verdict};
	}
	return applyNodeFault(plan, state, request as Exclude<FaultRequest, {action: 'thaw' | 'heal' | 'partition'}>, verdict, options);
}

async function applyNodeFault(plan: Plan, state: StateStore, request: Exclude<FaultRequest, {action: 'thaw' | 'heal' | 'partition'}>, verdict: QuorumVerdict | undefined, options: FaultOptions): Promise<FaultOutcome> {
	const active = state.current.faults ?? [];
	const at = new Date().toISOString();
	const timeline = (subject: string, detail: string, data?: TimelineEntry['data']) => told(plan, options, 'fault', subject, detail, data);
	const node = nodeOf(plan, request.node);
	switch (request.action) {
		case 'kill': {
			const fault: ActiveFault = {kind: 'killed', node: node.name, at};
			// Its other faults go with it: a dead VM is neither frozen nor isolated.
			await recorded(state, f => 'node' in f && f.node === node.name && f.kind !== 'impaired', fault, () => killNode(node, plan));
			await timeline(node.name, 'killed (SIGKILL of its QEMU)');
			return {done: [`${node.name}: killed`], verdict};
		}
		case 'powerdown': {
			const fault: ActiveFault = {kind: 'powered-down', node: node.name, at};
			await recorded(state, f => 'node' in f && f.node === node.name && f.kind !== 'impaired', fault, () => qmpAction(node, 'system_powerdown'));
			await timeline(node.name, 'powerdown (ACPI power button)');
			const gone = await waitForNodeExit(node, plan, POWERDOWN_TIMEOUT_MS);
			return {done: [`${node.name}: ${gone ? 'powered down' : `power button pressed; still running after ${POWERDOWN_TIMEOUT_MS / 1000} s`}`], verdict};
		}
		case 'reboot':
			await qmpAction(node, 'system_reset');
			await timeline(node.name, 'reboot (system_reset)');
			return {done: [`${node.name}: reset`], verdict};
		case 'freeze': {
			const fault: ActiveFault = {kind: 'frozen', node: node.name, at};
			await recorded(state, f => f.kind === 'frozen' && f.node === node.name, fault, () => qmpAction(node, 'stop'));
			await timeline(node.name, 'frozen (QMP stop)');
			return {done: [`${node.name}: frozen`], verdict};
		}
		case 'isolate': {
			const fault: ActiveFault = {kind: 'isolated', node: node.name, at};
			await recorded(state, f => f.kind === 'isolated' && f.node === node.name, fault, () => setClusterLink(node, false));
			await timeline(node.name, 'isolated (cluster NIC link down)');
			return {done: [`${node.name}: isolated`], verdict};
		}
		default: {
			const current = active.find((f): f is Extract<ActiveFault, {kind: 'impaired'}> => f.kind === 'impaired' && f.node === node.name);
			const impairment = withImpairment(current, request.action, request.value);
			const fault: ActiveFault = {kind: 'impaired', node: node.name, at, ...impairment};
			await recorded(state, f => f.kind === 'impaired' && f.node === node.name, fault, () => setImpairment(node, impairment), current);
			await timeline(node.name, describeFault(fault), {...impairment});
			return {done: [describeFault(fault)], verdict};
		}
	}
}

// Recorded first; a fault that could not be applied is taken off the record (or put back as it was).
async function recorded(state: StateStore, same: (f: ActiveFault) => boolean, fault: ActiveFault, apply: () => Promise<unknown>, previous?: ActiveFault): Promise<void> {
	await state.setFault(same, fault);
	try {
		await apply();
	} catch (error) {
		await state.setFault(f => f === fault || same(f), previous);
		throw error;
	}
}

// heal: every network fault (of one node, or all); thaw: frozen nodes. Each
// undone fault is taken off the record once it is undone.
async function heal(plan: Plan, state: StateStore, request: {action: 'thaw' | 'heal'; node?: string}, options: FaultOptions): Promise<string[]> {
	const matches = (fault: ActiveFault): boolean => {
		if (request.action === 'thaw') return fault.kind === 'frozen' && (!request.node || fault.node === request.node);
		if (fault.kind === 'partition') return !request.node || fault.groups.some(group => group.includes(request.node!));
		return (fault.kind === 'isolated' || fault.kind === 'impaired') && (!request.node || fault.node === request.node);
	};
	const undone: string[] = [];
	for (const fault of (state.current.faults ?? []).filter(matches)) {
		await undo(plan, fault);
		await state.setFault(f => f === fault);
		const subject = fault.kind === 'partition' ? 'cluster' : fault.node;
		await told(plan, options, 'heal', subject, `${request.action === 'thaw' ? 'thawed' : 'healed'}: ${describeFault(fault)}`);
		undone.push(`${request.action === 'thaw' ? 'thawed' : 'healed'} ${describeFault(fault)}`);
	}
	return undone;
}

async function undo(plan: Plan, fault: ActiveFault): Promise<void> {
	switch (fault.kind) {
		case 'frozen':
			return void (await qmpAction(nodeOf(plan, fault.node), 'cont'));
		case 'isolated':
			return void (await setClusterLink(nodeOf(plan, fault.node), true));
		case 'partition':
			return healPartition(plan, fault.groups, fault.vlans);
		case 'impaired':
			return setImpairment(nodeOf(plan, fault.node), {} satisfies Impairment);
		default:
			// killed / powered-down: undone by booting the node again.
			return undefined;
	}
}

// What `up` does before it touches a cluster: every fault still on record is
// undone where the process still runs, and the record is cleared (a cluster is
// never left partitioned, frozen or slowed by accident). Returns what it said.
export async function clearFaults(plan: Plan, state: StateStore): Promise<string[]> {
	const lines: string[] = [];
	for (const fault of state.current.faults ?? []) {
		try {
			await undo(plan, fault);
			if (fault.kind !== 'killed' && fault.kind !== 'powered-down') lines.push(`undone: ${describeFault(fault)}`);
		} catch (error) {
			// The process behind it is gone (a dead VM, a stopped switch): nothing is left to undo.
			lines.push(`dropped: ${describeFault(fault)} (${problemOf(error).message})`);
		}
		await appendTimeline(plan.timelineFile, entry('heal', fault.kind === 'partition' ? 'cluster' : fault.node, `cleared by up: ${describeFault(fault)}`));
	}
	await state.setFault(() => true);
	return lines;
}

// A node stopped (or started with a new QEMU) by plasma-tui node: its kill, powerdown, freeze or isolation ended with its old QEMU.
export async function forgetQemuFaults(plan: Plan, state: StateStore, node: string, why: string): Promise<void> {
	const ended = endedWithQemu(state.current.faults ?? [], node);
	if (ended.length === 0) return;
	await state.setFault(f => ended.includes(f));
	await appendTimeline(plan.timelineFile, entry('heal', node, `${why}: ${ended.map(describeFault).join('; ')} no longer apply`));
}
