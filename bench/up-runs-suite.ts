import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {round} from './result.js';
import type {UpRun} from './up-runs.js';

// Runs bench/up-runs.ts under the VM lock with the given jobs and returns its runs (flow.ts, scale.ts).

const SESSION = fileURLToPath(new URL('up-runs.ts', import.meta.url));
const VM_LOCK = '/tmp/plasma-vm.lock';

export async function upRuns(jobs: string[]): Promise<{runs: UpRun[]; lockWaitS: number; exitCode: number | undefined}> {
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-runs-'));
	const out = path.join(dir, 'runs.json');
	const spawned = Date.now();
	try {
		process.stderr.write(`bench: waiting for ${VM_LOCK} (other sessions' VM runs go first)\n`);
		// PLASMA_BENCH_VM_LOCK_HELD=1: the caller already holds the lock (several suites and sweeps in one hold).
		const session = [process.execPath, '--import', 'tsx', SESSION, out, ...jobs];
		const [command, ...args] = process.env['PLASMA_BENCH_VM_LOCK_HELD'] === '1' ? session : ['flock', VM_LOCK, ...session];
		const result = await execa(command!, args, {reject: false, timeout: 90 * 60_000, stdout: 'inherit', stderr: 'inherit'});
		const written = JSON.parse(await fs.readFile(out, 'utf8').catch(() => '{}')) as {lockedAt?: number; runs?: UpRun[]};
		return {runs: written.runs ?? [], lockWaitS: written.lockedAt ? round((written.lockedAt - spawned) / 1000, 1) : Number.NaN, exitCode: result.exitCode};
	} finally {
		await fs.rm(dir, {recursive: true, force: true});
	}
}

export const mib = (kib: number) => round(kib / 1024, 0);
