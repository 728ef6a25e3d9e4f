import fs from 'node:fs/promises';
import {timelineEntrySchema, type TimelineEntry} from '../model/timeline.js';
import {openOwnFile} from './owned-dir.js';

// The timeline file: appended one JSON line at a time (O_APPEND, so writers in
// parallel never interleave within a line), read back through the schema.

export async function appendTimeline(file: string, entries: TimelineEntry | readonly TimelineEntry[]): Promise<void> {
	const list = Array.isArray(entries) ? entries : [entries as TimelineEntry];
	if (list.length === 0) return;
	const handle = await openOwnFile(file, 'append');
	try {
		await handle.write(list.map(entry => `${JSON.stringify(timelineEntrySchema.parse(entry))}\n`).join(''));
	} finally {
		await handle.close();
	}
}

export type TimelineRead = {entries: TimelineEntry[]; skipped: number};

// A line that is not an entry (a torn write after a crash, a hand edit) is counted, not fatal.
export async function readTimeline(file: string): Promise<TimelineRead> {
	const text = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
		if (error.code === 'ENOENT') return '';
		throw error;
	});
	const entries: TimelineEntry[] = [];
	let skipped = 0;
	for (const line of text.split('\n')) {
		if (!line.trim()) continue;
		try {
			const parsed = timelineEntrySchema.safeParse(JSON.parse(line));
			if (parsed.success) entries.push(parsed.data);
			else skipped++;
		} catch {
			skipped++;
		}
	}
	entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
	return {entries, skipped};
}
