import {formatTimelineEntry, type TimelineEntry} from './timeline.js';
import {printableLine} from './printable.js';

// The timeline screen's window, pure: the newest entries while following, a
// fixed window once scrolled up (it stays put while entries arrive), End
// follows again. `end` is one past the last entry shown; undefined: following.

export type TimelineScroll = {end?: number};

export function timelineLines(entries: readonly TimelineEntry[]): string[] {
	let start: string | undefined;
	return entries.map(entry => {
		if (entry.kind === 'run') start = entry.at;
		return printableLine(entry.kind === 'run' ? `── ${entry.at} run: ${entry.detail ?? entry.subject}` : formatTimelineEntry(entry, start));
	});
}

export function timelineWindow(total: number, rows: number, scroll: TimelineScroll): {first: number; last: number; following: boolean} {
	const last = scroll.end === undefined ? total : Math.min(total, Math.max(Math.min(rows, total), scroll.end));
	return {first: Math.max(0, last - rows), last, following: scroll.end === undefined || last >= total};
}

export type TimelineKey = 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end';

export function scrollTimeline(scroll: TimelineScroll, key: TimelineKey, total: number, rows: number): TimelineScroll {
	const {last} = timelineWindow(total, rows, scroll);
	const to = (end: number): TimelineScroll => (end >= total ? {} : {end: Math.max(Math.min(rows, total), end)});
	switch (key) {
		case 'up':
			return to(last - 1);
		case 'down':
			return to(last + 1);
		case 'pageUp':
			return to(last - rows);
		case 'pageDown':
			return to(last + rows);
		case 'home':
			return to(0);
		case 'end':
			return {};
	}
}
