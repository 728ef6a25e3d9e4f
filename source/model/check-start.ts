import type {NodeRole} from './node-role.js';

// When a check may start while the nodes of a run are still being installed
// (the pipelined validate stage of `up`). Each check type says what it needs
// in the check registry; the engine asks only this function, never a type.
//
// - 'node': its own node is installed (a node check) or any node is (a cluster check);
// - 'quorum': a majority of the planned control planes is installed (and, for a node check, its own node);
// - 'all': every node is installed or out of the run (it counts or reaches every member).
export type CheckStart = 'node' | 'quorum' | 'all';

// Where a node is, for the pipeline: still installing, validated from now on, or left out (failed before).
export type ArrivalStatus = 'pending' | 'ready' | 'out';

export type ArrivingNode = {name: string; role: NodeRole; status: ArrivalStatus};

export type StartVerdict = {start: true} | {start: false; waitingFor: string[]};

export function mayStart(needs: CheckStart, nodes: readonly ArrivingNode[], self?: string): StartVerdict {
	const pending = nodes.filter(n => n.status === 'pending');
	if (self !== undefined) {
		const own = nodes.find(n => n.name === self);
		if (own?.status === 'pending') return {start: false, waitingFor: [self]};
	} else if (needs === 'node' && pending.length === nodes.length && nodes.length > 0) {
		return {start: false, waitingFor: pending.map(n => n.name)};
	}
	if (needs === 'node') return {start: true};
	if (needs === 'all') return pending.length === 0 ? {start: true} : {start: false, waitingFor: pending.map(n => n.name)};
	const planes = nodes.filter(n => n.role === 'control-plane');
	const majority = Math.floor(planes.length / 2) + 1;
	const ready = planes.filter(n => n.status === 'ready').length;
	const waiting = planes.filter(n => n.status === 'pending');
	// Once no pending control plane could make the majority, waiting longer changes nothing: the check says why.
	if (ready >= majority || ready + waiting.length < majority || waiting.length === 0) return {start: true};
	return {start: false, waitingFor: waiting.map(n => n.name)};
}

// The waiting line's words: "waiting for node02, node03 to be installed".
export function startWaitLine(check: string, waitingFor: readonly string[]): string {
	return `waiting for ${check}: starts once ${waitingFor.join(', ')} ${waitingFor.length === 1 ? 'is' : 'are'} installed`;
}

// "4.1 s wall for 9.8 s of checks": how much the validation's checks overlapped.
export function formatTiming(report: {wallMs?: number; checkMs?: number}): string | undefined {
	if (report.wallMs === undefined || report.checkMs === undefined) return undefined;
	return `${(report.wallMs / 1000).toFixed(1)} s wall for ${(report.checkMs / 1000).toFixed(1)} s of checks`;
}
