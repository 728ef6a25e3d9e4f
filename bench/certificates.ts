import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {type BenchRow, failed, median, round, row} from './result.js';

// CA + N node certificates through ensureCertificates (what `certs` and `up`
// run: keys, signing, files written 0400/0644 with fsync). Each sample is a
// fresh process: its first run is cold (loads @peculiar/x509), the rest warm.

const WORKER = fileURLToPath(new URL('certificates-worker.mjs', import.meta.url));
const BUNDLE_SCRIPT = fileURLToPath(new URL('../scripts/bundle.mjs', import.meta.url));
// The worker loads this bundle (bench/certificates-entry.ts, built like dist/).
const CERTS_BUNDLE_DIR = fileURLToPath(new URL('../.work/bench-certs/', import.meta.url));

type Case = {keyType: 'ecdsa-p256' | 'rsa-2048'; nodes: number; processes: number; warmRuns: number; goalMs?: number};

// RSA key generation is slow and very variable (a prime search), so it gets fewer runs.
const CASES: Case[] = [
	{keyType: 'ecdsa-p256', nodes: 3, processes: 5, warmRuns: 7, goalMs: 50},
	{keyType: 'ecdsa-p256', nodes: 16, processes: 3, warmRuns: 5},
	{keyType: 'rsa-2048', nodes: 3, processes: 3, warmRuns: 3},
	{keyType: 'rsa-2048', nodes: 16, processes: 2, warmRuns: 2},
];

export async function benchCertificates(): Promise<{rows: BenchRow[]; details: unknown}> {
	const rows: BenchRow[] = [];
	const details: Record<string, {coldMs: number[]; warmMs: number[]}> = {};
	try {
		await execa(process.execPath, [BUNDLE_SCRIPT, '--outdir', CERTS_BUNDLE_DIR, 'certificates=bench/certificates-entry.ts'], {timeout: 120_000});
	} catch (error) {
		return {rows: [failed('certificates', 'bundle bench/certificates-entry.ts', error)], details};
	}
	for (const c of CASES) {
		const label = `${c.keyType === 'ecdsa-p256' ? 'ECDSA P-256' : 'RSA 2048'}, CA + ${c.nodes}`;
		try {
			const cold: number[] = [];
			const warm: number[] = [];
			for (let i = 0; i < c.processes; i++) {
				const {stdout} = await execa(process.execPath, [WORKER, c.keyType, String(c.nodes), String(c.warmRuns)], {timeout: 300_000});
				const sample = JSON.parse(stdout.trim().split('\n').at(-1)!) as {coldMs: number; warmMs: number[]};
				cold.push(sample.coldMs);
				warm.push(...sample.warmMs);
			}
			details[label] = {coldMs: cold.map(v => round(v)), warmMs: warm.map(v => round(v))};
			const goal = c.goalMs ? {max: c.goalMs, text: `< ${c.goalMs} ms`} : undefined;
			rows.push(row('certificates', `${label}: warm (median of ${warm.length})`, round(median(warm)), 'ms', {goal, samples: warm.map(v => round(v))}));
			rows.push(row('certificates', `${label}: cold, first in a process (median of ${cold.length})`, round(median(cold)), 'ms', {note: 'includes loading @peculiar/x509', samples: cold.map(v => round(v))}));
		} catch (error) {
			rows.push(failed('certificates', label, error));
		}
	}
	return {rows, details};
}
