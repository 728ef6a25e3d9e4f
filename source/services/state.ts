import path from 'node:path';
import {z} from 'zod';
import {NODE_PHASES, type NodePhase} from '../model/node-phase.js';
import {activeFaultSchema, type ActiveFault} from '../model/fault.js';
import {ProblemError} from '../model/field-error.js';
import {writeFileAtomic} from './atomic-file.js';
import {ensureWorkDirs} from './owned-dir.js';
import {isOurProcess, type ProcessIdentity} from './processes.js';
import {readJsonFile} from './json-file.js';

// The state file: every process and socket a run starts, written before the
// process starts, so `down`, Ctrl-C and the next run can always find them.

// Read back through this schema: a state file of the wrong shape is reported
// with its path, never half-used (types are inferred from it).
const processEntrySchema = z.strictObject({
	kind: z.enum(['vde', 'qemu', 'nix', 'nixos-anywhere', 'image-build', 'node-switch', 'wirefilter', 'kvm-probe']),
	node: z.string().optional(),
	pid: z.number().int().positive().optional(),
	// The process group `down` signals: the detached tools lead their own.
	pgid: z.number().int().positive().optional(),
	// Its start time (clock ticks after boot, /proc/<pid>/stat): what is left of its group is no older.
	startTicks: z.number().int().nonnegative().optional(),
	// What was started, as started, and the binaries /proc/<pid>/exe may resolve to.
	argv: z.array(z.string()),
	exe: z.array(z.string()),
	// The argv elements that identify it (e.g. ["-pidfile", "<the planned pidfile>"]): guards against PID reuse.
	match: z.array(z.string()),
	pidfile: z.string().optional(),
	sockets: z.array(z.string()),
	ports: z.array(z.number().int()),
	startedAt: z.string(),
	status: z.enum(['starting', 'running', 'stopped', 'failed']),
	reason: z.string().optional(),
});

export function identityOf(entry: Pick<ProcessEntry, 'exe' | 'match'>): ProcessIdentity {
	return {exe: entry.exe ?? [], args: entry.match ?? []};
}

const nodeStatusSchema = z.strictObject({phase: z.enum(NODE_PHASES), reason: z.string().optional(), since: z.string(), installed: z.boolean().optional()});

// A membership change in progress (`node add`, `node remove`), written before its first step and
// cleared after its last: a crash half-way leaves it here for `status` and the next `node` command.
const membershipChangeSchema = z.strictObject({
	action: z.enum(['add', 'remove']),
	node: z.string(),
	role: z.enum(['control-plane', 'worker']),
	// The step being done: each is written before it starts.
	step: z.string(),
	startedAt: z.string(),
	// The node's directory: what `node remove` deletes last.
	dir: z.string(),
});

// A snapshot operation in progress, written before its first step: one that crashes
// (nodes left paused, half saved or half loaded) is found and said by the next command.
const snapshotOperationSchema = z.strictObject({
	action: z.enum(['save', 'restore', 'delete']),
	name: z.string(),
	startedAt: z.string(),
	pid: z.number().int(),
	// Where each node is: running, paused, saved, loaded, rolled-back, failed: <why>, ...
	nodes: z.record(z.string(), z.string()),
});

// What the operator did to a running cluster (stop, start, node stop): written before it happens.
// stopping/stopped: `plasma-tui stop`; stoppedNodes: nodes stopped on purpose (every node, after a stop).
const lifecycleSchema = z.strictObject({
	cluster: z.enum(['running', 'stopping', 'stopped']),
	stoppedNodes: z.array(z.string()),
	since: z.string(),
});

export const runStateSchema = z.strictObject({
	version: z.literal(1),
	profile: z.string(),
	workDir: z.string(),
	processes: z.array(processEntrySchema),
	nodes: z.record(z.string(), nodeStatusSchema),
	membership: membershipChangeSchema.optional(),
	snapshot: snapshotOperationSchema.optional(),
	// Faults active now (fault kill/freeze/isolate/partition/delay...): recorded before they are applied,
	// removed by heal/thaw, down and the next up.
	faults: z.array(activeFaultSchema).optional(),
	lifecycle: lifecycleSchema.optional(),
	updatedAt: z.string(),
});

export type ProcessEntry = z.infer<typeof processEntrySchema>;
export type NodeStatus = z.infer<typeof nodeStatusSchema>;
export type RunState = z.infer<typeof runStateSchema>;
export type MembershipChange = z.infer<typeof membershipChangeSchema>;
export type SnapshotOperation = z.infer<typeof snapshotOperationSchema>;
export type Lifecycle = z.infer<typeof lifecycleSchema>;

// A bad state file is never replaced: it may be the only record of a running cluster.
// The accelerator the cluster runs with: the recorded QEMU argv's "-accel kvm|tcg" pair (the node's own
// record first, then any node's), else the fallback (nothing runs). Preflight may have chosen KVM for `auto`.
export function runningAccel(state: Pick<RunState, 'processes'>, fallback: 'kvm' | 'tcg', node?: string): 'kvm' | 'tcg' {
	const qemus = state.processes.filter(p => p.kind === 'qemu');
	const argv = (qemus.find(p => p.node === node) ?? qemus[0])?.argv ?? [];
	const index = argv.indexOf('-accel');
	const accel = index >= 0 ? argv[index + 1] : undefined;
	return accel === 'kvm' || accel === 'tcg' ? accel : fallback;
}

export async function readState(file: string): Promise<RunState | undefined> {
	const read = await readJsonFile(file, runStateSchema);
	if (read.status === 'absent') return undefined;
	if (read.status === 'ok') return read.value;
	throw new ProblemError({
		message: `state file ${file} ${read.why}; it was left as it is`,
		fix: `move it away, e.g. mv ${file} ${file}.bad; "plasma-tui down" still finds the nodes by their pidfiles and command lines`,
	});
}

export async function liveEntries(state: RunState | undefined): Promise<ProcessEntry[]> {
	if (!state) return [];
	const alive = await Promise.all(state.processes.map(entry => isOurProcess(entry.pid, identityOf(entry))));
	return state.processes.filter((_, index) => alive[index]);
}

// Serialises updates from nodes that advance in parallel; every write is atomic.
export class StateStore {
	#chain: Promise<unknown> = Promise.resolve();
	#state: RunState;

	private constructor(
		readonly file: string,
		state: RunState,
	) {
		this.#state = state;
	}

	// Opens the state of a work directory; processes that are no longer alive are dropped.
	static async open(file: string, profile: string, workDir: string): Promise<StateStore> {
		// The directory is checked before the state in it is believed.
		await ensureWorkDirs(workDir, [path.dirname(file)]);
		const existing = await readState(file);
		const state: RunState = existing ?? {version: 1, profile, workDir, processes: [], nodes: {}, updatedAt: new Date().toISOString()};
		const live = await liveEntries(existing);
		state.processes = live;
		const store = new StateStore(file, state);
		await store.update(() => undefined);
		return store;
	}

	get current(): RunState {
		return this.#state;
	}

	update(change: (state: RunState) => void): Promise<void> {
		const next = this.#chain.then(async () => {
			change(this.#state);
			this.#state.updatedAt = new Date().toISOString();
			await writeFileAtomic(this.file, `${JSON.stringify(this.#state, null, 2)}\n`, 0o600);
		});
		this.#chain = next.catch(() => undefined);
		return next;
	}

	recordProcess(entry: ProcessEntry): Promise<void> {
		return this.update(state => {
			state.processes = state.processes.filter(p => !(p.kind === entry.kind && p.node === entry.node));
			state.processes.push(entry);
		});
	}

	removeProcess(kind: ProcessEntry['kind'], node: string | undefined): Promise<void> {
		return this.update(state => {
			state.processes = state.processes.filter(p => !(p.kind === kind && p.node === node));
		});
	}

	setProcess(kind: ProcessEntry['kind'], node: string | undefined, patch: Partial<ProcessEntry>): Promise<void> {
		return this.update(state => {
			const entry = state.processes.find(p => p.kind === kind && p.node === node);
			if (entry) Object.assign(entry, patch);
		});
	}

	setNode(node: string, phase: NodePhase, reason?: string): Promise<void> {
		return this.update(state => {
			const installed = state.nodes[node]?.installed;
			state.nodes[node] = {phase, reason, since: new Date().toISOString(), installed: installed || phase === 'installed' || undefined};
		});
	}

	// The membership change in progress, or none (undefined) once it is done.
	setMembership(change: MembershipChange | undefined): Promise<void> {
		return this.update(state => {
			if (change) state.membership = change;
			else delete state.membership;
		});
	}

	// A node that left the cluster: its process entry and its phase go.
	forgetNode(node: string): Promise<void> {
		return this.update(state => {
			state.processes = state.processes.filter(p => p.node !== node);
			delete state.nodes[node];
		});
	}

	// Replaces the faults that `same` matches with `fault` (none: just removes them).
	setFault(same: (fault: ActiveFault) => boolean, fault?: ActiveFault): Promise<void> {
		return this.update(state => {
			const kept = (state.faults ?? []).filter(f => !same(f));
			state.faults = fault ? [...kept, fault] : kept;
			if (state.faults.length === 0) delete state.faults;
		});
	}

	// The cluster's lifecycle, changed before the stop or start it records.
	setLifecycle(cluster: Lifecycle['cluster'], stoppedNodes: (current: string[]) => string[]): Promise<void> {
		return this.update(state => {
			state.lifecycle = {cluster, stoppedNodes: [...new Set(stoppedNodes(state.lifecycle?.stoppedNodes ?? []))], since: new Date().toISOString()};
		});
	}

	markInstalled(node: string, installed: boolean): Promise<void> {
		return this.update(state => {
			const status = state.nodes[node];
			if (status) status.installed = installed || undefined;
		});
	}
}
