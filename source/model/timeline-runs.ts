import {formatTimelineEntry, type TimelineEntry} from './timeline.js';
import {printableLine} from './printable.js';

// One time-ordered list per run: the entries after a 'run' entry belong to it
// (faults from another terminal included). Entries before the first run entry
// (a fault with no run recorded yet) form a run of their own.

export type TimelineRun = {start?: TimelineEntry; entries: TimelineEntry[]};

export function timelineRuns(entries: readonly TimelineEntry[]): TimelineRun[] {
	const runs: TimelineRun[] = [];
	for (const entry of entries) {
		if (entry.kind === 'run') runs.push({start: entry, entries: []});
		else if (runs.length === 0) runs.push({entries: [entry]});
		else runs.at(-1)!.entries.push(entry);
	}
	return runs;
}

export function formatTimelineRun(run: TimelineRun): string[] {
	const start = run.start?.at ?? run.entries[0]?.at;
	const header = run.start ? `${run.start.at} run: ${run.start.detail ?? run.start.subject} (${run.start.subject})` : `${start ?? ''} before any recorded run`;
	return [printableLine(header), ...run.entries.map(entry => `  ${printableLine(formatTimelineEntry(entry, start))}`)];
}
