import {fileURLToPath} from 'node:url';
import {type BenchRow, failed, round, row} from './result.js';
import {at, span} from './up-phases.js';
import {mib, upRuns} from './up-runs-suite.js';
import type {UpRun} from './up-runs.js';

// Issue 15, goal 5: `up` of the demo at 3, 5 and 9 nodes (bench/demo-5.json, bench/demo-9.json: 3 etcd
// members, the rest workers running the etcd gRPC proxy), one after the other under the VM lock, with
// QEMU's memory per node and the host RSS of plasma-tui itself (the CLI process, sampled every 200 ms).

const GROUP = 'up at scale';
const PROFILE_FILES: Record<string, string> = {
	3: fileURLToPath(new URL('../profiles/demo.json', import.meta.url)),
	5: fileURLToPath(new URL('demo-5.json', import.meta.url)),
	9: fileURLToPath(new URL('demo-9.json', import.meta.url)),
};
// PLASMA_BENCH_SCALE_NODES=9,5: other sizes or another order (e.g. the heavy one first).
const PROFILES = (process.env['PLASMA_BENCH_SCALE_NODES'] ?? '3,5,9').split(',').map(n => PROFILE_FILES[n.trim()]).filter((f): f is string => f !== undefined);

function rowsFor(run: UpRun): BenchRow[] {
	const n = run.nodes;
	const record = run.record;
	if (!record) return [failed(GROUP, `up, ${n} nodes`, run.error ?? 'did not run')];
	const lines = record.lines;
	const bootStart = at(lines, /^\[boot\] start/);
	const lastReady = at(lines, /^node\d+: ssh-ready/, 'last');
	const firstReady = at(lines, /^node\d+: ssh-ready/);
	const boot = bootStart !== undefined && lastReady !== undefined ? round((lastReady - bootStart) / 1000, 1) : null;
	const validate = span(lines, /^\[validate\] start/, /^\[validate\] (done|failed)/);
	const cliMax = run.cliRssKiB.length > 0 ? Math.max(...run.cliRssKiB) : undefined;
	const qemuAvg = run.qemuRssKiB.length > 0 ? run.qemuRssKiB.reduce((a, b) => a + b, 0) / run.qemuRssKiB.length : undefined;
	const load = `1-min load ${round(run.load[0] ?? 0, 1)} at start`;
	// A failed `up` (e.g. checks that failed under load) still says how long the boot and install took.
	const total = row(GROUP, `up, ${n} nodes (total)`, round(record.totalMs / 1000, 1), 's', {note: `${load}; validate ${validate === undefined ? '-' : round(validate, 1)} s; exit code ${record.exitCode}${record.exitCode === 0 ? '' : `: ${record.lines.filter(l => /failed/.test(l.line)).at(-1)?.line.slice(0, 100) ?? ''}`}`});
	if (record.exitCode !== 0) total.status = 'error';
	return [
		total,
		row(GROUP, `boot to all ssh-ready, ${n} nodes`, boot, 's', {note: firstReady !== undefined && bootStart !== undefined ? `first node at ${round((firstReady - bootStart) / 1000, 1)} s` : undefined}),
		row(GROUP, `QEMU RSS per node, ${n} nodes`, qemuAvg === undefined ? null : mib(qemuAvg), 'MiB', {note: `guest memory ${run.memoryMiB ?? '-'} MiB each; ${run.qemuRssKiB.length} QEMU processes measured after up`}),
		row(GROUP, `plasma-tui RSS (max), ${n} nodes`, cliMax === undefined ? null : mib(cliMax), 'MiB', {note: `the CLI process, ${run.cliRssKiB.length} samples`}),
	];
}

export async function benchScale(): Promise<{rows: BenchRow[]; details: unknown}> {
	try {
		const {runs, lockWaitS} = await upRuns(PROFILES.map(file => `up:${file}`));
		if (runs.length === 0) return {rows: [failed(GROUP, 'up at scale', 'no run finished')], details: {lockWaitS}};
		return {rows: runs.flatMap(rowsFor), details: {lockWaitS, runs: runs.map(r => ({job: r.job, load: r.load, cliRssKiB: r.cliRssKiB, qemuRssKiB: r.qemuRssKiB, lines: r.record?.lines.filter(l => /^\[|ssh-ready|installed/.test(l.line)), downExit: r.down?.exitCode}))}};
	} catch (error) {
		return {rows: [failed(GROUP, 'up at scale', error)], details: {}};
	}
}
