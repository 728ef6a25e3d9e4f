import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {type BenchRow, failed, median, round, row} from './result.js';

// Preflight on a fresh home (`doctor --profile demo`: every finding, the KVM probe included, nothing
// cached) and on a warm one (the probe's verdict cached for this host boot), median of 5 each.
// Issue 15, goal 1: < 1 s on a fresh home. The probe used to boot a kernel and wait (~8 s under TCG).

const BIN = process.env['PLASMA_BENCH_BIN'] ?? fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const RUNS = 5;
const GROUP = 'preflight';

async function doctorMs(home: string): Promise<{ms: number; accel: string}> {
	const started = performance.now();
	const result = await execa(process.execPath, [BIN, 'doctor', '--profile', 'demo'], {env: {...process.env, PLASMA_TUI_HOME: home}, reject: false, timeout: 60_000});
	const ms = performance.now() - started;
	const accel = result.stdout.split('\n').find(line => / (TCG|KVM)/.test(line) && /^(ok|warn|fail) /.test(line)) ?? '';
	return {ms, accel: accel.slice(5, 120)};
}

export async function benchPreflight(): Promise<{rows: BenchRow[]; details: unknown}> {
	const root = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-preflight-'));
	try {
		const fresh: number[] = [];
		const warm: number[] = [];
		let accel = '';
		for (let i = 0; i < RUNS; i++) {
			const home = path.join(root, `home-${i}`);
			const first = await doctorMs(home);
			fresh.push(first.ms);
			accel = first.accel;
			warm.push((await doctorMs(home)).ms);
		}
		const rows = [
			row(GROUP, 'doctor --profile demo, fresh home (KVM probe included)', round(median(fresh) / 1000, 2), 's', {goal: {max: 1, text: '< 1 s'}, samples: fresh.map(v => round(v)), note: `${accel}; node start-up included; noisy under load`}),
			row(GROUP, 'doctor --profile demo, probe cached', round(median(warm) / 1000, 2), 's', {samples: warm.map(v => round(v))}),
		];
		return {rows, details: {fresh, warm, accel}};
	} catch (error) {
		return {rows: [failed(GROUP, 'doctor --profile demo', error)], details: {}};
	} finally {
		await fs.rm(root, {recursive: true, force: true});
	}
}
