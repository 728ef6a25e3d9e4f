import {printableEvent, stallHint, type NodePhase, type RunEvent, type StageStatus} from './events.js';
import {RingBuffer} from './ring-buffer.js';
import {STAGES, type StageName} from './stages.js';

// What the run screens show, folded from the engine's events. No React and no
// I/O: tests feed recorded event streams and compare the result.
//
// Console and install lines go into per-node ring buffers that are shared
// between successive views and appended in place: a node printing megabytes
// costs a bounded amount of memory and no copying, while the small fields
// (phase, wait, stall) are copied so a new view compares unequal to the old.

export const CONSOLE_LINES_KEPT = 2000;
export const INSTALL_LINES_KEPT = 200;
export const LOG_LINES_KEPT = 200;
// Checks that are about the whole cluster (quorum, CRUD) have no node.
export const CLUSTER_ROW = 'cluster';

export type NodeWait = {waitingFor: string; lastError?: string; elapsedMs: number; at: number};

export type NodeView = {
	name: string;
	phase: NodePhase;
	reason?: string;
	phaseSince: number;
	lastConsole?: string;
	lastConsoleAt?: number;
	wait?: NodeWait;
	// The engine's "no console output for N s" warning, until the node prints again.
	stall?: string;
	lastLog?: {level: 'info' | 'warn' | 'error'; message: string};
	console: RingBuffer<string>;
	install: RingBuffer<string>;
};

// 'not-run': the node failed before validation or does not answer (the detail says why).
export type CheckStatus = 'waiting' | 'ok' | 'failed' | 'not-run';
export type CheckCell = {status: CheckStatus; detail?: string; logLine?: string; at: number};

export type StageView = {name: StageName; status: StageStatus; message?: string; at: number};

// resolvedBy: the stage whose success answers this warning; once it is done the line is kept as info, marked resolved.
export type LogLine = {node?: string; level: 'info' | 'warn' | 'error'; message: string; resolvedBy?: StageName; at: number};

export type RunView = {
	startedAt: number;
	stages: StageView[];
	nodeNames: string[];
	nodes: Record<string, NodeView>;
	// Check names in the order they first ran; rows are node names and CLUSTER_ROW.
	checkNames: string[];
	checks: Record<string, Record<string, CheckCell>>;
	log: RingBuffer<LogLine>;
	// Events folded so far: a cheap "did anything change" for renders and tests.
	events: number;
};

export type RunViewOptions = {consoleLines?: number; installLines?: number};

function newNode(name: string, at: number, options: RunViewOptions): NodeView {
	return {
		name,
		phase: 'pending',
		phaseSince: at,
		console: new RingBuffer<string>(options.consoleLines ?? CONSOLE_LINES_KEPT),
		install: new RingBuffer<string>(options.installLines ?? INSTALL_LINES_KEPT),
	};
}

export function createRunView(nodeNames: string[], startedAt: number, options: RunViewOptions = {}): RunView {
	return {
		startedAt,
		stages: [],
		nodeNames: [...nodeNames],
		nodes: Object.fromEntries(nodeNames.map(name => [name, newNode(name, startedAt, options)])),
		checkNames: [],
		checks: {},
		log: new RingBuffer<LogLine>(LOG_LINES_KEPT),
		events: 0,
	};
}


// Folds a batch of events into a new view; the batch is what arrived since the last render.
export function applyRunEvents(view: RunView, events: readonly RunEvent[], options: RunViewOptions = {}): RunView {
	if (events.length === 0) return view;
	const next: RunView = {...view, nodeNames: view.nodeNames, nodes: {...view.nodes}, events: view.events + events.length};
	const copied = new Set<string>();
	const node = (name: string, at: number): NodeView => {
		if (!copied.has(name)) {
			const existing = next.nodes[name];
			if (!existing && !next.nodeNames.includes(name)) next.nodeNames = [...next.nodeNames, name];
			next.nodes[name] = existing ? {...existing} : newNode(name, at, options);
			copied.add(name);
		}
		return next.nodes[name]!;
	};
	let stagesCopied = false;
	let checksCopied = false;
	for (const raw of events) {
		// Guest text is cleaned here, once, for every screen that shows the view.
		const event = printableEvent(raw);
		switch (event.type) {
			case 'stage': {
				if (!stagesCopied) {
					next.stages = [...next.stages];
					stagesCopied = true;
				}
				const stage: StageView = {name: event.stage, status: event.status, message: event.message, at: event.at};
				const index = next.stages.findIndex(s => s.name === event.stage);
				if (index >= 0) next.stages[index] = stage;
				else {
					// In run order, whichever of two overlapping stages reported first.
					const after = next.stages.findIndex(s => STAGES.indexOf(s.name) > STAGES.indexOf(event.stage));
					next.stages.splice(after < 0 ? next.stages.length : after, 0, stage);
				}
				if (event.status === 'done') next.log = resolveWarnings(next.log, stage);
				break;
			}
			case 'node-phase': {
				const target = node(event.node, event.at);
				if (target.phase !== event.phase) target.phaseSince = event.at;
				target.phase = event.phase;
				target.reason = event.reason;
				target.wait = undefined;
				if (event.phase !== 'booting' && event.phase !== 'console') target.stall = undefined;
				break;
			}
			case 'node-wait':
				node(event.node, event.at).wait = {waitingFor: event.waitingFor, lastError: event.lastError, elapsedMs: event.elapsedMs, at: event.at};
				break;
			case 'console': {
				const target = node(event.node, event.at);
				target.console.push(event.line);
				target.lastConsole = event.line;
				target.lastConsoleAt = event.at;
				target.stall = undefined;
				break;
			}
			case 'install-output':
				node(event.node, event.at).install.push(event.line);
				break;
			case 'check': {
				if (!checksCopied) {
					next.checks = {...next.checks};
					next.checkNames = [...next.checkNames];
					checksCopied = true;
				}
				const row = event.node ?? CLUSTER_ROW;
				if (!next.checkNames.includes(event.check)) next.checkNames.push(event.check);
				next.checks[row] = {...next.checks[row], [event.check]: {status: event.status, detail: event.detail, logLine: event.logLine, at: event.at}};
				break;
			}
			case 'node-stall':
				node(event.node, event.at).stall = stallHint(event.silentMs);
				break;
			case 'log':
				next.log.push({node: event.node, level: event.level, message: event.message, resolvedBy: event.resolvedBy, at: event.at});
				if (event.node) {
					const target = node(event.node, event.at);
					target.lastLog = {level: event.level, message: event.message};
				}
				break;
		}
	}
	return next;
}

// A stage that is done answers the warnings waiting for it (preflight's "the demo
// image is not built yet" once the image stage built it): they stay in the log
// as info, marked resolved, and leave the warnings the screens show.
function resolveWarnings(log: RingBuffer<LogLine>, stage: StageView): RingBuffer<LogLine> {
	const lines = log.toArray();
	if (!lines.some(line => line.resolvedBy === stage.name && line.level !== 'info')) return log;
	const resolved = new RingBuffer<LogLine>(log.capacity);
	for (const line of lines) {
		resolved.push(line.resolvedBy === stage.name && line.level !== 'info' ? {...line, level: 'info', message: `${line.message}: resolved, ${stage.name} ${stage.message ?? 'done'}`} : line);
	}
	resolved.dropped = log.dropped;
	return resolved;
}

export function applyRunEvent(view: RunView, event: RunEvent, options: RunViewOptions = {}): RunView {
	return applyRunEvents(view, [event], options);
}

export function stageOf(view: RunView, name: StageName): StageView | undefined {
	return view.stages.find(s => s.name === name);
}

// The stage being worked on now, or the last one that ended.
export function currentStage(view: RunView): StageView | undefined {
	for (let i = view.stages.length - 1; i >= 0; i--) if (view.stages[i]!.status === 'start') return view.stages[i];
	return view.stages.at(-1);
}

export type CheckSummary = {ok: number; failed: number; waiting: number; notRun: number; total: number};

export function checkSummary(view: RunView): CheckSummary {
	const summary: CheckSummary = {ok: 0, failed: 0, waiting: 0, notRun: 0, total: 0};
	for (const row of Object.values(view.checks)) {
		for (const cell of Object.values(row)) {
			summary[cell.status === 'not-run' ? 'notRun' : cell.status]++;
			summary.total++;
		}
	}
	return summary;
}

// Rows whose checks were not run, once each, with why (the same reason for all of a node's checks).
export function notRunRows(view: RunView): Array<{row: string; reason: string; checks: number}> {
	return [...view.nodeNames, CLUSTER_ROW].flatMap(row => {
		const cells = Object.values(view.checks[row] ?? {}).filter(cell => cell.status === 'not-run');
		return cells.length === 0 ? [] : [{row, reason: cells[0]!.detail ?? 'not run', checks: cells.length}];
	});
}

// Failed checks in grid order, with the log line that explains them (the node's console when the engine had none).
export function failedChecks(view: RunView): Array<{row: string; check: string; reason: string; logLine?: string}> {
	const rows = [...view.nodeNames, CLUSTER_ROW];
	return view.checkNames.flatMap(check =>
		rows.flatMap(row => {
			const cell = view.checks[row]?.[check];
			if (cell?.status !== 'failed') return [];
			const lastConsole = view.nodes[row]?.lastConsole;
			return [{row, check, reason: cell.detail ?? 'failed', logLine: cell.logLine ?? (lastConsole === undefined ? undefined : `console: ${lastConsole}`)}];
		}),
	);
}
