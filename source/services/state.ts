import fs from 'node:fs/promises';
import path from 'node:path';
import type {NodePhase} from '../model/events.js';
import {ProblemError} from '../model/field-error.js';
import {writeFileAtomic} from './atomic-file.js';
import {isOurProcess, type ProcessIdentity} from './processes.js';

// The state file: every process and socket a run starts, written before the
// process starts, so `down`, Ctrl-C and the next run can always find them.

export type ProcessEntry = {
	kind: 'vde' | 'qemu' | 'nix' | 'nixos-anywhere' | 'image-build';
	node?: string;
	pid?: number;
	// The process group `down` signals: the detached tools lead their own.
	pgid?: number;
	// Its start time (clock ticks after boot, /proc/<pid>/stat): what is left of its group is no older.
	startTicks?: number;
	// What was started, as started, and the binaries /proc/<pid>/exe may resolve to.
	argv: string[];
	exe: string[];
	// The argv elements that identify it (e.g. ["-pidfile", "<the planned pidfile>"]): guards against PID reuse.
	match: string[];
	pidfile?: string;
	sockets: string[];
	ports: number[];
	startedAt: string;
	status: 'starting' | 'running' | 'stopped' | 'failed';
	reason?: string;
};

export function identityOf(entry: Pick<ProcessEntry, 'exe' | 'match'>): ProcessIdentity {
	return {exe: entry.exe ?? [], args: entry.match ?? []};
}

export type NodeStatus = {phase: NodePhase; reason?: string; since: string; installed?: boolean};

export type RunState = {
	version: 1;
	profile: string;
	workDir: string;
	processes: ProcessEntry[];
	nodes: Record<string, NodeStatus>;
	updatedAt: string;
};

export async function readState(file: string): Promise<RunState | undefined> {
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
	try {
		return JSON.parse(text) as RunState;
	} catch {
		throw new ProblemError({
			message: `state file ${file} is not valid JSON; it was left as it is`,
			fix: 'run "plasma-tui down", which also finds nodes by their pidfiles and command lines, then remove the file',
		});
	}
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
		const existing = await readState(file);
		const state: RunState = existing ?? {version: 1, profile, workDir, processes: [], nodes: {}, updatedAt: new Date().toISOString()};
		const live = await liveEntries(existing);
		state.processes = live;
		await fs.mkdir(path.dirname(file), {recursive: true, mode: 0o700});
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

	markInstalled(node: string, installed: boolean): Promise<void> {
		return this.update(state => {
			const status = state.nodes[node];
			if (status) status.installed = installed || undefined;
		});
	}
}
