// The run engine's vocabulary. Services emit these, the engine sequences them,
// and both front ends (TUI panes, plain lines) only consume them.

import type {NodePhase} from './node-phase.js';
import type {StageName} from './stages.js';

export type {NodePhase};

export type StageStatus = 'start' | 'done' | 'failed' | 'skipped';

export type RunEvent =
	| {type: 'stage'; stage: StageName; status: StageStatus; message?: string; at: number}
	| {type: 'node-phase'; node: string; phase: NodePhase; reason?: string; at: number}
	// A wait in progress: what it waits for and the last error seen.
	| {type: 'node-wait'; node: string; waitingFor: string; lastError?: string; elapsedMs: number; at: number}
	| {type: 'console'; node: string; line: string; at: number}
	| {type: 'install-output'; node: string; line: string; at: number}
	// A failed check carries the log line that explains it (the service log named by explainLog, or the console).
	// 'not-run': the node failed before validation or does not answer; detail says why.
	| {type: 'check'; node?: string; check: string; status: 'waiting' | 'ok' | 'failed' | 'not-run'; detail?: string; logLine?: string; at: number}
	// A booting node whose console has been silent for silentMs.
	| {type: 'node-stall'; node: string; silentMs: number; at: number}
	| {type: 'log'; node?: string; level: 'info' | 'warn' | 'error'; message: string; at: number};

export type RunEventListener = (event: RunEvent) => void;

export function stallHint(silentMs: number): string {
	return `no console output for ${Math.round(silentMs / 1000)} s: check the kernel / initrd / accelerator`;
}

// Plain-line rendering shared by headless commands: one line per event, prefixed with the node.
export function formatEventLine(event: RunEvent): string | undefined {
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
			return `${prefix}check ${event.check}: ${event.status}${event.detail ? ` (${event.detail})` : ''}`;
		case 'log':
			return `${prefix}${event.level === 'info' ? '' : `${event.level}: `}${event.message}`;
	}
}
