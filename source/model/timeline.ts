import {z} from 'zod';

// One thing that happened to a running cluster, as the timeline records it
// (`<workDir>/timeline.jsonl`, one JSON line each, oldest first). Faults,
// node phases, check transitions (ok -> failed and back) and the facts checks
// learn (leader, term, member count) all share this shape, so one list shows
// cause next to effect.
export const TIMELINE_KINDS = ['run', 'fault', 'heal', 'node-phase', 'check', 'fact', 'lifecycle', 'snapshot', 'scenario'] as const;

export const timelineEntrySchema = z.strictObject({
	// ISO time the thing happened (not when it was written).
	at: z.string(),
	kind: z.enum(TIMELINE_KINDS),
	// What it is about: a node name, a check name, "cluster".
	subject: z.string(),
	node: z.string().optional(),
	// A transition: from -> to (phases, check status, leader).
	from: z.string().optional(),
	to: z.string().optional(),
	// One line for a person.
	detail: z.string().optional(),
	// Structured facts (term, members, delayMs, ...): printable scalars only.
	data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export function formatTimelineEntry(entry: TimelineEntry, start?: string): string {
	const when = start ? `+${((Date.parse(entry.at) - Date.parse(start)) / 1000).toFixed(1)}s` : entry.at;
	const change = entry.from !== undefined || entry.to !== undefined ? ` ${entry.from ?? '?'} -> ${entry.to ?? '?'}` : '';
	const detail = entry.detail ? `: ${entry.detail}` : '';
	// A check runs per node: its subject is the check, the node says where.
	const where = entry.node && entry.node !== entry.subject ? ` on ${entry.node}` : '';
	return `${when} ${entry.kind} ${entry.subject}${where}${change}${detail}`;
}
