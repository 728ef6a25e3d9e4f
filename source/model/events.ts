// The run engine's vocabulary. Services emit these, the engine sequences them,
// and both front ends (TUI panes, plain lines) only consume them.

import type {NodePhase} from './node-phase.js';
import type {StageName} from './stages.js';
import {printableLine} from './printable.js';
import {formatFacts, type CheckFacts} from './check-facts.js';

export type {NodePhase};

export type StageStatus = 'start' | 'done' | 'failed' | 'skipped';

export type RunEvent =
	| {type: 'stage'; stage: StageName; status: StageStatus; message?: string; at: number}
	// from: the phase the node left (the timeline records from -> to).
	| {type: 'node-phase'; node: string; phase: NodePhase; from?: NodePhase; reason?: string; at: number}
	// A wait in progress: what it waits for and the last error seen.
	| {type: 'node-wait'; node: string; waitingFor: string; lastError?: string; elapsedMs: number; at: number}
	| {type: 'console'; node: string; line: string; at: number}
	| {type: 'install-output'; node: string; line: string; at: number}
	// A failed check carries the log line that explains it (the service log named by explainLog, or the console).
	// 'not-run': the node failed before validation or does not answer; detail says why.
	// facts: what the check learned about the cluster (raft-quorum: leader, term, members).
	| {type: 'check'; node?: string; check: string; status: 'waiting' | 'ok' | 'failed' | 'not-run'; detail?: string; logLine?: string; facts?: CheckFacts; at: number}
	// A booting node whose console has been silent for silentMs.
	| {type: 'node-stall'; node: string; silentMs: number; at: number}
	// resolvedBy: a warning that this stage's success answers (preflight's "the demo image is not built yet" and the image stage).
	| {type: 'log'; node?: string; level: 'info' | 'warn' | 'error'; message: string; resolvedBy?: StageName; at: number};

export type RunEventListener = (event: RunEvent) => void;

// What a wait reports (the SSH wait's onWait) as the node's node-wait event.
export function nodeWaitReporter(emit: RunEventListener, node: string, waitingFor: string): (info: {lastError?: string; elapsedMs: number}) => void {
	return info => emit({type: 'node-wait', node, waitingFor, lastError: info.lastError, elapsedMs: info.elapsedMs, at: Date.now()});
}

export function stallHint(silentMs: number): string {
	return `no console output for ${Math.round(silentMs / 1000)} s: check the kernel / initrd / accelerator`;
}

// Every text an event carries may come from a guest (console and install
// output, remote stderr in a check's detail, HTTP bodies, QEMU's log lines, a
// failure reason built from them). Both renderers of events, formatEventLine
// (plain lines) and the run view's reducer (the screens), take events through
// this one cleaner; the report and status clean what they print with the same printableLine.
export function printableEvent<E extends RunEvent>(event: E): E {
	let cleaned: Record<string, unknown> | undefined;
	for (const [key, value] of Object.entries(event)) {
		if (typeof value !== 'string') continue;
		const printable = printableLine(value);
		if (printable === value) continue;
		cleaned ??= {...event};
		cleaned[key] = printable;
	}
	return (cleaned as E | undefined) ?? event;
}

// Plain-line rendering shared by headless commands: one line per event, prefixed with the node.
export function formatEventLine(raw: RunEvent): string | undefined {
	const event = printableEvent(raw);
	const prefix = 'node' in event && event.node ? `${event.node}: ` : '';
	switch (event.type) {
		case 'stage':
			return `[${event.stage}] ${event.status}${event.message ? `: ${event.message}` : ''}`;
		case 'node-phase':
			return `${prefix}${event.phase}${event.reason ? `: ${event.reason}` : ''}`;
		case 'node-wait':
			return `${prefix}waiting for ${event.waitingFor}${event.lastError ? `: ${event.lastError}` : ''}, ${Math.round(event.elapsedMs / 1000)}s`;
		case 'console':
			return `${prefix}| ${event.line}`;
		case 'install-output':
			return `${prefix}> ${event.line}`;
		case 'node-stall':
			return `${prefix}${stallHint(event.silentMs)}`;
		case 'check':
			return `${prefix}check ${event.check}: ${event.status}${event.detail ? ` (${event.detail})` : ''}${event.facts ? ` [${formatFacts(event.facts)}]` : ''}`;
		case 'log':
			return `${prefix}${event.level === 'info' ? '' : `${event.level}: `}${event.message}`;
	}
}

// A headless wait is printed when what it waits for (or its last error)
// changes, then at most every waitEveryMs per node: SSH waits report about
// four times a second, and the TUI shows them live in the pane instead.
export const HEADLESS_WAIT_EVERY_MS = 10_000;

export function plainEventPrinter(print: (line: string) => void, options: {waitEveryMs?: number; skip?: (event: RunEvent) => boolean} = {}): RunEventListener {
	const every = options.waitEveryMs ?? HEADLESS_WAIT_EVERY_MS;
	const lastWait = new Map<string, {reason: string; at: number}>();
	return event => {
		if (options.skip?.(event)) return;
		if (event.type === 'node-wait') {
			const reason = `${event.waitingFor}\n${event.lastError ?? ''}`;
			const last = lastWait.get(event.node);
			if (last && last.reason === reason && event.at - last.at < every) return;
			lastWait.set(event.node, {reason, at: event.at});
		} else if (event.type === 'node-phase') {
			// The node moved on: its next wait is news.
			lastWait.delete(event.node);
		}
		const line = formatEventLine(event);
		if (line !== undefined) print(line);
	};
}
