import path from 'node:path';
import type {Profile} from '../model/profile-schema.js';
import type {NodePlan, Plan} from '../model/plan.js';
import type {NodePhase, RunEvent, RunEventListener} from '../model/events.js';
import {tailFile} from '../services/console-tail.js';
import {ensureWorkDirs} from '../services/owned-dir.js';
import {createDisk, startNode, stopNode, type NodeProcess} from '../services/qemu.js';
import {StateStore} from '../services/state.js';
import type {TeardownReport} from '../services/teardown.js';
import {startSwitch, stopSwitch} from '../services/vde.js';
import {startNodeLink, stopNodeLink} from '../services/node-link.js';
import {NodePhases} from './node-phases.js';

// The boot stage on its own: run directories, disks, the switch, then every
// node in parallel. A rerun attaches to nodes that still run; an abort stops
// only what this run started. What comes after boot (SSH, install) builds on
// the handles it returns.

export type BootedNode = {
	node: NodePlan;
	pid: number;
	attached: boolean;
	exited: NodeProcess['exited'];
	// Resolves with the line that matched the plan's ready pattern (never, without a pattern).
	ready: Promise<string>;
	// Aborted (with the reason) when the console printed a line matching the plan's fail pattern.
	consoleFailed: AbortSignal;
	recentConsole: string[];
	// Its QEMU is about to end on purpose (nixos-anywhere's reboot; the engine starts the installed
	// system in a new one): that exit does not fail the node.
	expectExit: () => void;
};

export type BootResult = {
	state: StateStore;
	nodes: Map<string, BootedNode>;
	// The same phases as `nodePhases.current`, which the steps after boot go on setting.
	phases: Record<string, NodePhase>;
	nodePhases: NodePhases;
	interrupted: boolean;
	// Stops following consoles and exits; call when the run is over (the VMs keep running).
	close: () => void;
	// Stops what this run started (the switch too, when this run started it).
	stopStarted: () => Promise<TeardownReport>;
};

export type BootOptions = {
	onEvent: RunEventListener;
	signal?: AbortSignal;
	// Resolve only once every node printed its ready line or failed (tests, `up --boot-only`).
	waitForReady?: boolean;
	// How long a node may take to print its ready line (default: the profile's SSH timeout).
	readyTimeoutMs?: number;
	// The run's state file, when the caller opened it already (one store per run: writes are serialised).
	state?: StateStore;
};

// Why a node is gone: QEMU's exit and what its console said last.
export function exitReason(outcome: {code?: number | null; lastLines: string[]}, recentConsole: string[], during?: string): string {
	const last = recentConsole.slice(-3).join(' | ') || outcome.lastLines.join(' | ') || 'no output';
	return `QEMU exited${outcome.code !== undefined && outcome.code !== null ? ` (code ${outcome.code})` : ''}${during ? ` during ${during}` : ''}; last lines: ${last}`;
}

export async function bootCluster(profile: Profile, plan: Plan, options: BootOptions): Promise<BootResult> {
	const emit = (event: RunEvent) => options.onEvent(event);
	const log = (message: string, level: 'info' | 'warn' | 'error' = 'info', node?: string) => emit({type: 'log', level, message, node, at: Date.now()});
	const nodes = new Map<string, BootedNode>();
	const tails: Array<{stop: () => void}> = [];
	const started: Array<{node: NodePlan; pid?: number}> = [];
	let startedSwitch = false;
	let closed = false;
	const exitExpected = new Set<string>();

	// Each directory the run uses is checked (ours, not a symlink, not writable by others) before anything is opened in it.
	await ensureWorkDirs(plan.workDir, plan.nodes.flatMap(node => [node.dir, path.dirname(node.runtime.pidfile)]));
	const state = options.state ?? (await StateStore.open(plan.stateFile, profile.name, plan.workDir));
	const nodePhases = new NodePhases(plan.nodes.map(n => n.name), emit, state);
	const phases = nodePhases.current;
	const setPhase = (node: string, phase: NodePhase, reason?: string) => nodePhases.set(node, phase, reason);

	let stopping: Promise<TeardownReport> | undefined;
	// Idempotent: an abort and the caller may both ask for it.
	const stopStarted = (): Promise<TeardownReport> => (stopping ??= stopStartedOnce());
	// A state-file write that fails in a callback is said, not left as an unhandled rejection.
	const background = (work: Promise<unknown>) => void work.catch((error: unknown) => log(`state file: ${(error as Error).message}`, 'error'));
	// Set once the switch and the nodes are being started: a stop waits for them, so a QEMU
	// spawned while the abort was arriving is in `started` before the stop looks.
	let switchStarting: Promise<unknown> = Promise.resolve();
	let booting: Promise<unknown> = Promise.resolve();
	const stopStartedOnce = async (): Promise<TeardownReport> => {
		await switchStarting.catch(() => undefined);
		await booting;
		const report: TeardownReport = {stopped: [], removed: [], notStopped: []};
		started.sort((a, b) => plan.nodes.indexOf(a.node) - plan.nodes.indexOf(b.node));
		const outcomes = await Promise.all(started.map(({node, pid}) => stopNode(node, plan, {pid, graceMs: 1000})));
		started.forEach(({node}, index) => {
			if (outcomes[index] !== 'gone') report.stopped.push(`${node.name} (${outcomes[index]})`);
		});
		for (const {node} of started) {
			for (const {what, outcome} of await stopNodeLink(node)) if (outcome !== 'gone') report.stopped.push(`${what} (${outcome})`);
		}
		await state.update(s => {
			s.processes = s.processes.filter(p => !(['qemu', 'wirefilter', 'node-switch'].includes(p.kind) && started.some(entry => entry.node.name === p.node)));
		});
		const attachedLeft = [...nodes.values()].some(n => n.attached);
		if (startedSwitch && !attachedLeft) {
			const outcome = await stopSwitch(plan);
			if (outcome !== 'gone') report.stopped.push(`vde_switch (${outcome})`);
			await state.update(s => {
				s.processes = s.processes.filter(p => p.kind !== 'vde');
			});
		}
		return report;
	};

	const close = () => {
		closed = true;
		for (const tail of tails) tail.stop();
		options.signal?.removeEventListener('abort', onAbort);
	};
	const onAbort = () => {
		log('interrupted: stopping what this run started', 'warn');
		void stopStarted();
	};
	options.signal?.addEventListener('abort', onAbort, {once: true});

	const interruptedResult = async (): Promise<BootResult> => {
		const report = await stopStarted();
		for (const {node} of started) await setPhase(node.name, 'failed', 'interrupted: stopped');
		log(`stopped: ${report.stopped.join(', ') || 'nothing was running yet'}`, 'warn');
		close();
		return {state, nodes, phases, nodePhases, interrupted: true, close, stopStarted};
	};

	try {
		const starting = startSwitch(plan, state, options.signal);
		switchStarting = starting;
		const vde = await starting;
		startedSwitch = !vde.reused;
		log(vde.reused ? `VDE switch already running (pid ${vde.pid}): reused` : `VDE switch started (pid ${vde.pid}) on ${plan.vde.socket}`);
	} catch (error) {
		if (options.signal?.aborted) return interruptedResult();
		throw error;
	}

	const readyPattern = plan.boot.readyPattern ? new RegExp(plan.boot.readyPattern) : undefined;
	const failPattern = plan.boot.failPattern ? new RegExp(plan.boot.failPattern) : undefined;
	const bootNode = async (node: NodePlan): Promise<void> => {
		try {
			await setPhase(node.name, 'booting');
			const disk = await createDisk(node, options.signal);
			if (disk === 'kept') log(`disk kept: ${node.disk.path}`, 'info', node.name);
			options.signal?.throwIfAborted();
			await startNodeLink(node, plan, state, options.signal);
			const entry: {node: NodePlan; pid?: number} = {node};
			// An installed node boots what its install wrote (boot.afterInstall: disk); a blank netboot installs again.
			const installed = state.current.nodes[node.name]?.installed === true;
			const fromDisk = installed && plan.boot.afterInstall === 'disk';
			const proc = await startNode(node, plan, state, options.signal, pid => {
				entry.pid = pid;
				started.push(entry);
			}, fromDisk);
			if (proc.attached) log(`already running (pid ${proc.pid}): attached`, 'info', node.name);
			else if (fromDisk) log('booting its installed disk (boot.afterInstall: disk)', 'info', node.name);
			else if (installed) await state.markInstalled(node.name, false);
			const recentConsole: string[] = [];
			let markReady: (line: string) => void = () => undefined;
			const ready = new Promise<string>(resolve => (markReady = resolve));
			const consoleFailed = new AbortController();
			// Only a QEMU this run started: an attached node's log still holds its earlier boots.
			const failsOn = proc.attached ? undefined : failPattern;
			const failOnConsole = (line: string) => {
				if (consoleFailed.signal.aborted) return;
				const reason = `the console said: ${line.trim()}`;
				consoleFailed.abort(new Error(`${node.name}: ${reason}`));
				background(setPhase(node.name, 'failed', reason));
			};
			nodes.set(node.name, {node, pid: proc.pid, attached: proc.attached, exited: proc.exited, ready, consoleFailed: consoleFailed.signal, recentConsole, expectExit: () => exitExpected.add(node.name)});
			tails.push(
				tailFile(node.runtime.consoleLog, {
					stallMs: profile.boot.stallSec * 1000,
					onLines: lines => {
						for (const line of lines) {
							recentConsole.push(line);
							if (recentConsole.length > 20) recentConsole.shift();
							emit({type: 'console', node: node.name, line, at: Date.now()});
							if (readyPattern?.test(line)) markReady(line);
							if (failsOn?.test(line)) failOnConsole(line);
						}
						if (phases[node.name] === 'booting') background(setPhase(node.name, 'console'));
					},
					onStall: silentMs => {
						if (phases[node.name] === 'booting' || phases[node.name] === 'console') {
							emit({type: 'node-stall', node: node.name, silentMs, at: Date.now()});
						}
					},
				}),
			);
			// A node whose QEMU dies is marked failed with what it said last.
			void proc.exited.then(outcome => {
				if (options.signal?.aborted || closed || exitExpected.has(node.name)) return;
				background(setPhase(node.name, 'failed', exitReason(outcome, recentConsole)));
				background(state.setProcess('qemu', node.name, {status: 'failed', reason: 'QEMU exited'}));
			});
		} catch (error) {
			if (!options.signal?.aborted) await setPhase(node.name, 'failed', (error as Error).message);
		}
	};
	// Control planes together first, then workers: a member set that can form quorum comes up before what depends on it.
	const workers = plan.nodes.filter(node => node.role === 'worker');
	booting = Promise.all(plan.nodes.filter(node => node.role !== 'worker').map(bootNode)).then(() => Promise.all(workers.map(bootNode)));
	await booting;
	if (options.signal?.aborted) return interruptedResult();

	if (options.waitForReady && readyPattern) {
		const aborted = new Promise<void>(resolve => options.signal?.addEventListener('abort', () => resolve(), {once: true}));
		const timeoutMs = options.readyTimeoutMs ?? profile.boot.sshTimeoutSec * 1000;
		const timers: NodeJS.Timeout[] = [];
		// Each node's timer ends with its own wait: a late node must not fail the ready ones.
		const readyOrTimeout = async (booted: BootedNode): Promise<void> => {
			let timer: NodeJS.Timeout | undefined;
			const timedOut = new Promise<void>(resolve => {
				timer = setTimeout(() => {
					const last = booted.recentConsole.at(-1);
					background(setPhase(booted.node.name, 'failed', `no "${plan.boot.readyPattern}" line on the console within ${Math.round(timeoutMs / 1000)} s${last ? `; last line: ${last}` : '; the console is silent (check the kernel / initrd / accelerator)'}`));
					resolve();
				}, timeoutMs);
				timers.push(timer);
			});
			const failed = new Promise<void>(resolve => (booted.consoleFailed.aborted ? resolve() : booted.consoleFailed.addEventListener('abort', () => resolve(), {once: true})));
			await Promise.race([booted.ready.then(line => log(`ready: ${line}`, 'info', booted.node.name)), booted.exited.then(() => undefined), failed, timedOut]);
			clearTimeout(timer);
		};
		await Promise.race([Promise.all([...nodes.values()].map(readyOrTimeout)), aborted]);
		for (const timer of timers) clearTimeout(timer);
		if (options.signal?.aborted) return interruptedResult();
	}
	return {state, nodes, phases, nodePhases, interrupted: false, close, stopStarted};
}
