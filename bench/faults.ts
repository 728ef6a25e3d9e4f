import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {type BenchRow, failed, round, row} from './result.js';
import type {FaultSessionResult} from './fault-session.js';

// Time from a fault to the first failing check, and from its heal to all
// green, for "kill the leader" and "isolate one follower" on the demo cluster.
// The VMs boot in bench/fault-session.ts under the machine-wide VM locks.

const SESSION = fileURLToPath(new URL('fault-session.ts', import.meta.url));
const LOCKS = ['/tmp/plasma-e2e.lock', '/tmp/plasma-vm.lock'];
const GROUP = 'faults (demo, 3 nodes)';

export async function benchFaults(): Promise<{rows: BenchRow[]; details: unknown}> {
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-faults-'));
	const out = path.join(dir, 'session.json');
	try {
		const command = [...LOCKS.flatMap(lock => ['flock', lock]), process.execPath, '--import', 'tsx', SESSION, out];
		await execa(command[0]!, command.slice(1), {reject: false, timeout: 60 * 60_000, stdout: 'inherit', stderr: 'inherit'});
		const session = JSON.parse(await fs.readFile(out, 'utf8').catch(() => '{}')) as FaultSessionResult;
		if (!session.lockedAt) return {rows: [failed(GROUP, 'faults', 'fault-session wrote no result')], details: {}};
		const rows: BenchRow[] = [];
		for (const timing of session.timings) {
			if (timing.error) rows.push(failed(GROUP, timing.fault, timing.error));
			rows.push(row(GROUP, `${timing.fault}: fault to first failing check`, timing.toFirstFailureS === undefined ? null : round(timing.toFirstFailureS, 1), 's', {note: timing.firstFailure?.slice(0, 80)}));
			rows.push(row(GROUP, `${timing.fault}: heal to all green`, timing.healToGreenS === undefined ? null : round(timing.healToGreenS, 1), 's', {note: timing.fault.startsWith('kill') ? 'heal = boot the node again and rejoin (QEMU, SSH, install)' : 'heal = link up again'}));
		}
		if (session.error) rows.push(failed(GROUP, 'session', session.error));
		return {rows, details: session};
	} finally {
		await fs.rm(dir, {recursive: true, force: true});
	}
}
