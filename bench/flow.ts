import {fileURLToPath} from 'node:url';
import {type BenchRow, failed, median, round, row} from './result.js';
import {upRuns} from './up-runs-suite.js';
import type {UpRun} from './up-runs.js';

// Issue 15, goal 2: `up --profile demo` from nothing (fresh home, image cached) against the same
// work by hand (bench/boot-baseline.sh in flow mode: openssl certificates, the same boot, push,
// install, etcd, quorum and CRUD), alternating, 3 samples each, in one hold of the VM lock.

const GROUP = 'up / hand script';
// PLASMA_BENCH_FLOW_SAMPLES: fewer samples when the machine is too loaded for 6 runs.
const SAMPLES = Number(process.env['PLASMA_BENCH_FLOW_SAMPLES'] ?? 3);
const DEMO = fileURLToPath(new URL('../profiles/demo.json', import.meta.url));

const seconds = (run: UpRun) => {
	if (run.job.startsWith('flow:')) {
		const done = run.record?.lines.find(l => l.line.startsWith('flow-done '));
		return done ? Number(done.line.split(' ')[1]) : undefined;
	}
	return run.record?.exitCode === 0 ? run.record.totalMs / 1000 : undefined;
};

export async function benchFlow(): Promise<{rows: BenchRow[]; details: unknown}> {
	const jobs = Array.from({length: SAMPLES}, () => [`up:${DEMO}`, 'flow:3']).flat();
	try {
		const {runs, lockWaitS} = await upRuns(jobs);
		const up = runs.filter(r => r.job.startsWith('up:')).map(seconds);
		const hand = runs.filter(r => r.job.startsWith('flow:')).map(seconds);
		const ok = (values: Array<number | undefined>) => values.filter((v): v is number => v !== undefined);
		if (ok(up).length === 0 || ok(hand).length === 0) return {rows: [failed(GROUP, 'up / hand script (whole flow)', `up ${up.join(',')} / hand ${hand.join(',')}: a run failed`)], details: {runs}};
		const upMedian = median(ok(up));
		const handMedian = median(ok(hand));
		const load = runs.map(r => round(r.load[0] ?? 0, 1)).join(', ');
		const handSteps = runs.find(r => r.job.startsWith('flow:'))?.record?.lines.filter(l => /^(certificates|all-ssh-ready|installed|checked|flow-done) /.test(l.line)).map(l => l.line).join(', ');
		return {
			rows: [
				row(GROUP, 'up --profile demo from nothing (median)', round(upMedian, 1), 's', {samples: ok(up).map(v => round(v, 1)), note: 'every check of the demo, certificates, install to disk'}),
				row(GROUP, 'hand script: whole flow (median)', round(handMedian, 1), 's', {samples: ok(hand).map(v => round(v, 1)), note: `bench/boot-baseline.sh ... flow; first run: ${handSteps ?? '-'}`}),
				row(GROUP, 'up / hand script (whole flow)', round(upMedian / handMedian, 2), 'x', {goal: {max: 0.75, text: '<= 0.75x'}, note: `alternating; 1-min load at each run: ${load}`}),
			],
			details: {lockWaitS, runs: runs.map(r => ({job: r.job, load: r.load, seconds: seconds(r), exit: r.record?.exitCode, lines: r.job.startsWith('flow:') ? r.record?.lines : undefined}))},
		};
	} catch (error) {
		return {rows: [failed(GROUP, 'up / hand script (whole flow)', error)], details: {}};
	}
}
