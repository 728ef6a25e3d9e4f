import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {type BenchRow, failed, round, row, skipped} from './result.js';
import type {SnapshotSession} from './snapshot-session.js';

// Whole-cluster snapshots of the 3-node demo: save, restore to all checks green,
// size on disk, and `up --from-snapshot` after `down`, next to `up` from nothing.
// The VMs are booted by bench/snapshot-session.ts under the machine-wide VM lock.

const SESSION = fileURLToPath(new URL('snapshot-session.ts', import.meta.url));
const VM_LOCK = '/tmp/plasma-vm.lock';
const GROUP = 'snapshot --profile demo';

const num = (text: string | undefined, pattern: RegExp): number | undefined => {
	const found = text?.match(pattern)?.[1];
	return found === undefined ? undefined : Number(found);
};

// What `snapshot restore` printed: the total, where it went (model/snapshot.ts formatRestoreTimings), the time to SSH.
function restoreNumbers(step: {output: string}): {total?: number; parts?: string; toSsh?: number} {
	const total = num(step.output, /in ([\d.]+) s: pause/);
	const parts = step.output.match(/ s: (pause \d+ ms, save aside (\d+) ms, load\+resume (\d+) ms, ssh\+clock (\d+) ms.*); (all \d+ checks green|checks NOT green)/);
	const pause = num(step.output, / s: pause (\d+) ms/);
	const toSsh = parts && pause !== undefined ? round((pause + Number(parts[2]) + Number(parts[3]) + Number(parts[4])) / 1000, 2) : undefined;
	return {total, parts: parts?.[1], toSsh};
}

export function snapshotRows(session: SnapshotSession): BenchRow[] {
	const rows: BenchRow[] = [];
	const {up, save, restore, restoreAgain, restoreRollback, restoreFull, upFromSnapshot} = session.steps;
	if (up) rows.push(row(GROUP, 'up from nothing (wall)', round(up.seconds, 1), 's', {note: `exit ${up.exitCode}; the baseline restore is held against`}));
	if (save) {
		const saveMs = num(save.output, /save (\d+) ms/);
		const spread = num(save.output, /paused within ([\d.]+) ms/);
		const gap = num(save.output, /cluster paused ([\d.]+) s/);
		rows.push(row(GROUP, 'snapshot save (wall)', round(save.seconds, 2), 's', {note: `savevm on 3 nodes in parallel ${saveMs ?? '?'} ms; cluster paused ${gap ?? '?'} s (its wall clock gap)`}));
		rows.push(row(GROUP, 'pause spread (3 nodes)', spread ?? null, 'ms', {note: "QEMU's STOP event times, stop sent to every node at once"}));
	}
	const sizes = session.listJson ? (JSON.parse(session.listJson) as Array<{sizeBytes: number}>) : [];
	if (sizes[0]) {
		const growth = session.diskBytes ? session.diskBytes.after - session.diskBytes.before : undefined;
		rows.push(row(GROUP, 'snapshot size on disk', round(sizes[0].sizeBytes / 2 ** 20, 0), 'MiB', {note: `3 nodes' vm-state inside their qcow2 disks; the disks grew by ${growth === undefined ? '?' : round(growth / 2 ** 20, 0)} MiB`}));
	}
	// The first restore is the row; the second (same cluster, warm host caches) and the one with the rollback copy are next to it.
	const restores = [restore, restoreAgain].filter((r): r is NonNullable<typeof r> => r !== undefined).map(restoreNumbers);
	const best = restores.filter(r => r.total !== undefined).sort((a, b) => a.total! - b.total!)[0];
	if (restore) {
		const first = restoreNumbers(restore);
		rows.push(row(GROUP, 'restore to all checks green', first.total ?? null, 's', {goal: {max: 3, text: '< 3 s'}, note: `${first.parts ?? restore.output.slice(-200)}${restores.length > 1 ? `; runs: ${restores.map(r => r.total ?? '?').join(' s, ')} s` : ''}`}));
		rows.push(row(GROUP, 'restore to every node on SSH, clocks stepped', first.toSsh ?? null, 's', {note: 'the restore itself, before the checks run'}));
		rows.push(row(GROUP, 'snapshot restore (wall)', round(restore.seconds, 1), 's', {note: `exit ${restore.exitCode}; includes node start-up and the work lock${best ? `; best restore to green ${best.total} s` : ''}`}));
	}
	if (restoreRollback) {
		const safe = restoreNumbers(restoreRollback);
		rows.push(row(GROUP, 'restore --rollback (copy set aside first) to all checks green', safe.total ?? null, 's', {note: `${safe.parts ?? restoreRollback.output.slice(-200)}; the copy is dropped after the checks, outside this time`}));
	}
	if (restoreFull) {
		const full = restoreNumbers(restoreFull);
		rows.push(row(GROUP, 'restore --full (also persistence: an etcd restart) to all checks green', full.total ?? null, 's', {note: full.parts ?? restoreFull.output.slice(-200)}));
	}
	if (upFromSnapshot) rows.push(row(GROUP, 'down, then up --from-snapshot (wall)', round(upFromSnapshot.seconds, 1), 's', {note: `exit ${upFromSnapshot.exitCode}; ${upFromSnapshot.output.match(/^\[validate\] (done|failed)[^;\n]*/m)?.[0] ?? ''}`}));
	if (session.error) rows.push(failed(GROUP, 'snapshot session', session.error));
	return rows;
}

export async function benchSnapshot(): Promise<{rows: BenchRow[]; details: unknown}> {
	const which = await execa('flock', ['--version'], {reject: false});
	if (which.exitCode !== 0) return {rows: [skipped(GROUP, 'snapshot', 'flock is missing (util-linux): VM runs must take /tmp/plasma-vm.lock')], details: {}};
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-snap-'));
	const out = path.join(dir, 'session.json');
	const spawned = Date.now();
	try {
		process.stderr.write(`bench: snapshot: waiting for ${VM_LOCK}\n`);
		const result = await execa('flock', [VM_LOCK, process.execPath, '--import', 'tsx', SESSION, out], {reject: false, timeout: 60 * 60_000, stdout: 'inherit', stderr: 'inherit'});
		const session = JSON.parse(await fs.readFile(out, 'utf8').catch(() => '{}')) as SnapshotSession;
		if (!session.lockedAt) return {rows: [failed(GROUP, 'snapshot', `snapshot-session exited ${result.exitCode} without a result`)], details: {}};
		const details = {lockWaitS: round((session.lockedAt - spawned) / 1000, 1), steps: Object.fromEntries(Object.entries(session.steps).map(([name, s]) => [name, {seconds: round(s.seconds, 2), exitCode: s.exitCode, tail: s.output.split('\n').slice(-12)}]))};
		return {rows: snapshotRows(session), details};
	} catch (error) {
		return {rows: [failed(GROUP, 'snapshot', error)], details: {}};
	} finally {
		await fs.rm(dir, {recursive: true, force: true});
	}
}
