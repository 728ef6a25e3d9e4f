import {printableLine} from './printable.js';

// Why a command failed, in a line that fits a pane: the cause first. Programs
// log progress before they fail, so the first line of output is rarely the
// reason; the last line at error level (etcd's "C |" / "E |", a
// "level":"fatal" JSON line, an "error:" or "fatal:") is. stderr is read
// before stdout: that is where the cause is written.

const ERROR_LEVEL = [
	// etcd / capnslog: "2026-12-01 10:00:00.000000 C | etcdmain: ...", klog: "E1201 10:00:00.000000 ..."
	/(?:^|\s)[CEF] \| /,
	/^[EF]\d{4} \d/,
	// structured logs: level=error, "level":"fatal", [ERROR]
	/\blevel[=:]\s*"?(?:error|fatal|panic|crit(?:ical)?)\b/i,
	/\[(?:error|fatal|crit(?:ical)?|emerg)\]/i,
	/\b(?:error|fatal|panic|failed|cannot|can't|couldn't|denied|not found|no such)\b/i,
];

// A leading timestamp says nothing about the cause and costs a narrow pane its width.
const TIMESTAMP = /^\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?\s+/;

export function meaningfulLines(output: string): string[] {
	return output
		.split(/\r?\n/)
		.map(line => printableLine(line).replace(TIMESTAMP, '').trim())
		.filter(Boolean);
}

function errorRank(line: string): number {
	const index = ERROR_LEVEL.findIndex(pattern => pattern.test(line));
	return index < 0 ? ERROR_LEVEL.length : index;
}

// The cause, then up to `context - 1` earlier lines that help read it ("before: ...").
export function failureReason(output: {stderr?: string; stdout?: string}, context = 3): string {
	const stderr = meaningfulLines(output.stderr ?? '');
	const lines = stderr.length > 0 ? stderr : meaningfulLines(output.stdout ?? '');
	if (lines.length === 0) return 'no output';
	// The last line of the best error level; with none at error level, the last line.
	const best = Math.min(...lines.map(errorRank));
	let causeIndex = lines.length - 1;
	while (errorRank(lines[causeIndex]!) !== best) causeIndex--;
	const cause = lines[causeIndex]!;
	// What else was said at error level, nearest the cause first; else the lines just before it.
	const others = lines.filter((line, index) => index !== causeIndex && errorRank(line) < ERROR_LEVEL.length);
	const before = (others.length > 0 ? others : lines.slice(0, causeIndex)).slice(-(context - 1)).reverse();
	return before.length > 0 && context > 1 ? `${cause} (before: ${before.join('; ')})` : cause;
}

// A partial cluster is validated as far as it is up: each failed node's checks are reported as not run, with why.
export function notRunReasons(failed: ReadonlyArray<{name: string}>, recorded: Record<string, {reason?: string} | undefined>): Record<string, string> | undefined {
	if (failed.length === 0) return undefined;
	return Object.fromEntries(failed.map(n => [n.name, `${n.name} did not finish: ${recorded[n.name]?.reason ?? 'failed'}`]));
}
