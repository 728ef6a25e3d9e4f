import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

// One row of the table: a measured number, the goal it is held against (if
// any) and whether it met it. Samples are kept in the JSON, not in the table.

export type Goal = {max: number; text: string};
export type RowStatus = 'met' | 'missed' | 'info' | 'error' | 'skipped';

export type BenchRow = {
	group: string;
	name: string;
	value: number | null;
	unit: string;
	goal?: Goal;
	status: RowStatus;
	note?: string;
	samples?: number[];
};

// A goal written "< 3 s" is not met by 3.00 s; "<= 1.0x" is met by 1.0.
export function meets(value: number, goal: Goal): boolean {
	return goal.text.trimStart().startsWith('<=') ? value <= goal.max : value < goal.max;
}

export function row(group: string, name: string, value: number | null, unit: string, extra: {goal?: Goal; note?: string; samples?: number[]} = {}): BenchRow {
	const status: RowStatus = value === null ? 'error' : extra.goal ? (meets(value, extra.goal) ? 'met' : 'missed') : 'info';
	return {group, name, value, unit, status, ...extra};
}

export function skipped(group: string, name: string, note: string): BenchRow {
	return {group, name, value: null, unit: '', status: 'skipped', note};
}

export function failed(group: string, name: string, error: unknown): BenchRow {
	return {group, name, value: null, unit: '', status: 'error', note: error instanceof Error ? error.message : String(error)};
}

export function median(values: number[]): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round(value: number, digits = 1): number {
	const factor = 10 ** digits;
	return Math.round(value * factor) / factor;
}

function formatValue(r: BenchRow): string {
	if (r.value === null) return '-';
	return `${r.value} ${r.unit}`.trim();
}

const STATUS_TEXT: Record<RowStatus, string> = {met: 'met', missed: 'MISSED', info: '', error: 'ERROR', skipped: 'skipped'};

// A plain text table: fixed-width columns, the note last so it may run long.
export function formatTable(rows: BenchRow[]): string {
	const cells = rows.map(r => [r.group, r.name, formatValue(r), r.goal?.text ?? '', STATUS_TEXT[r.status], r.note ?? '']);
	const header = ['group', 'benchmark', 'result', 'goal', 'status', 'note'];
	const widths = header.map((h, i) => Math.max(h.length, ...cells.slice().map(c => (i === 5 ? 0 : c[i]!.length))));
	const line = (c: string[]) =>
		c
			.map((text, i) => (i === 5 ? text : text.padEnd(widths[i]!)))
			.join('  ')
			.trimEnd();
	return [line(header), line(widths.map((w, i) => '-'.repeat(i === 5 ? 4 : w))), ...cells.map(line)].join('\n');
}

export type BenchReport = {
	startedAt: string;
	finishedAt: string;
	machine: {cpus: number; cpuModel: string; memoryGiB: number; loadAverageAtStart: number[]; loadAverageAtEnd: number[]; node: string; platform: string};
	suites: string[];
	rows: BenchRow[];
	details: Record<string, unknown>;
};

export function machineFacts(): Omit<BenchReport['machine'], 'loadAverageAtEnd'> {
	return {
		cpus: os.cpus().length,
		cpuModel: os.cpus()[0]?.model ?? 'unknown',
		memoryGiB: round(os.totalmem() / 2 ** 30, 1),
		loadAverageAtStart: os.loadavg().map(v => round(v, 2)),
		node: process.version,
		platform: `${os.platform()} ${os.release()}`,
	};
}

// bench/results/<timestamp>.json and latest.json, both the same report.
export async function writeReport(dir: string, report: BenchReport): Promise<string> {
	await fs.mkdir(dir, {recursive: true});
	const stamp = report.startedAt.replace(/[:.]/g, '-');
	const file = path.join(dir, `${stamp}.json`);
	const text = `${JSON.stringify(report, null, 2)}\n`;
	await fs.writeFile(file, text);
	await fs.writeFile(path.join(dir, 'latest.json'), text);
	return file;
}
