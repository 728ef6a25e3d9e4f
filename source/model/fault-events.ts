import type {RunEvent} from './events.js';
import type {TimelineEntry} from './timeline.js';

// Faults as the engine's events: a log line on the node's pane (or the
// cluster's log). Log lines are not timeline material, so a fault is written
// to the timeline once, by the fault engine, however many screens show it.

export function faultEvent(entry: Pick<TimelineEntry, 'kind' | 'node' | 'detail' | 'at'>): RunEvent {
	const fault = entry.kind === 'fault';
	return {type: 'log', node: entry.node, level: fault ? 'warn' : 'info', message: `${fault ? 'fault' : 'fault undone'}: ${entry.detail ?? ''}`, at: Date.parse(entry.at)};
}

// What changed between two readings of the state file's fault markers (per
// node): the faults another process (`plasma-tui fault`, a rehearsal) put on
// or took off, as events for a run screen attached to the cluster.
export function markerEvents(before: Readonly<Record<string, readonly string[]>>, after: Readonly<Record<string, readonly string[]>>, at: number): RunEvent[] {
	const events: RunEvent[] = [];
	for (const node of new Set([...Object.keys(before), ...Object.keys(after)])) {
		const was = before[node] ?? [];
		const now = after[node] ?? [];
		for (const marker of now.filter(m => !was.includes(m))) events.push({type: 'log', node, level: 'warn', message: `fault: ${marker}`, at});
		for (const marker of was.filter(m => !now.includes(m))) events.push({type: 'log', node, level: 'info', message: `fault undone: ${marker}`, at});
	}
	return events;
}
