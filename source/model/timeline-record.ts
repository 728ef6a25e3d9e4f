import type {RunEvent} from './events.js';
import {checkTransitions, EMPTY_CHECK_MEMORY, type CheckMemory, type CheckTransition, type FactChange} from './check-transitions.js';
import type {TimelineEntry} from './timeline.js';

// What of a run goes into the timeline, pure: node phase changes, check
// transitions (the first result of each check, then ok -> failed and back) and
// the facts checks learn when they change. Waits, consoles and stages stay out.

export function runEntry(command: string, profile: string, at: Date): TimelineEntry {
	return {at: at.toISOString(), kind: 'run', subject: profile, detail: `plasma-tui ${command}`, data: {command, pid: process.pid}};
}

export function transitionEntries(transitions: readonly CheckTransition[], facts: readonly FactChange[]): TimelineEntry[] {
	return [
		...transitions.map((t): TimelineEntry => ({at: t.at, kind: 'check', subject: t.check, node: t.node, from: t.from, to: t.to, detail: t.reason})),
		...facts.map((f): TimelineEntry => ({at: f.at, kind: 'fact', subject: f.fact, from: f.from, to: f.to, data: {check: f.check}})),
	];
}

export function timelineEntriesOf(memory: CheckMemory, event: RunEvent): {memory: CheckMemory; entries: TimelineEntry[]} {
	const at = new Date(event.at).toISOString();
	if (event.type === 'node-phase') {
		if (event.from === event.phase) return {memory, entries: []};
		return {memory, entries: [{at, kind: 'node-phase', subject: event.node, node: event.node, from: event.from, to: event.phase, detail: event.reason}]};
	}
	if (event.type !== 'check' || event.status === 'waiting') return {memory, entries: []};
	const status = event.status;
	const seen = checkTransitions(memory, [{check: event.check, node: event.node, status, reason: status === 'ok' ? undefined : event.detail, facts: event.facts}], at);
	return {memory: seen.memory, entries: transitionEntries(seen.transitions, seen.facts)};
}

export {EMPTY_CHECK_MEMORY};
