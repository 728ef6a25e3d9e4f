import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {type BenchRow, failed, round, row} from './result.js';
import type {FaultSessionResult} from './fault-session.js';

// Time from a fault to the first failing check, and from its heal to all
// green, for "kill the leader" and "isolate one follower" on the demo cluster;
// and what network.impairment (a vde_switch + wirefilter per node) costs:
// boot to SSH, ping and an etcd write over the cluster network, off and on.
// The VMs boot in bench/fault-session.ts under the machine-wide VM locks.

const SESSION = fileURLToPath(new URL('fault-session.ts', import.meta.url));
const LOCKS = ['/tmp/plasma-e2e.lock', '/tmp/plasma-vm.lock'];
const GROUP = 'faults (demo, 3 nodes)';
const LINK_GROUP = 'impairment cost (demo, 3 nodes)';

export async function benchFaults(): Promise<{rows: BenchRow[]; details: unknown}> {
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-faults-'));
	const out = path.join(dir, 'session.json');
	try {
		const command = [...LOCKS.flatMap(lock => ['flock', lock]), process.execPath, '--import', 'tsx', SESSION, out];
		await execa(command[0]!, command.slice(1), {reject: false, timeout: 60 * 60_000, stdout: 'inherit', stderr: 'inherit'});
		const session = JSON.parse(await fs.readFile(out, 'utf8').catch(() => '{}')) as FaultSessionResult;
		if (!session.lockedAt) return {rows: [failed(GROUP, 'faults', 'fault-session wrote no result')], details: {}};
		const rows: BenchRow[] = [];
		const load = `load ${session.loadAtStart.map(v => v.toFixed(1)).join(' ')}`;
		for (const link of session.links ?? []) {
			const which = `impairment ${link.impairment ? 'on' : 'off'}`;
			if (link.error) rows.push(failed(LINK_GROUP, which, link.error));
			rows.push(row(LINK_GROUP, `${which}: up, boot to ssh ready (slowest node)`, link.sshReadyS === undefined ? null : round(link.sshReadyS, 1), 's', {note: load}));
			rows.push(row(LINK_GROUP, `${which}: ping node01 -> node02 (avg of 20)`, link.pingMs ?? null, 'ms', {note: load}));
			rows.push(row(LINK_GROUP, `${which}: etcdctl put node01 -> node02`, link.etcdPutMs === undefined ? null : round(link.etcdPutMs, 0), 'ms', {note: 'one etcdctl process per write, avg of 10'}));
		}
		for (const timing of session.timings) {
			if (timing.error) rows.push(failed(GROUP, timing.fault, timing.error));
			const between = timing.firstRoundStartS === undefined ? '' : `between ${round(timing.firstRoundStartS, 1)} s and this; `;
			rows.push(row(GROUP, `${timing.fault}: fault to first failing check`, timing.toFirstFailureS === undefined ? null : round(timing.toFirstFailureS, 1), 's', {note: `${between}${timing.firstFailure?.slice(0, 60) ?? ''}`}));
			rows.push(row(GROUP, `${timing.fault}: heal to all green`, timing.healToGreenS === undefined ? null : round(timing.healToGreenS, 1), 's', {note: timing.fault.startsWith('kill') ? 'heal = boot it again from its disk (QEMU, SSH, etcd rejoins)' : 'heal = link up again'}));
		}
		if (session.error) rows.push(failed(GROUP, 'session', session.error));
		return {rows, details: session};
	} finally {
		await fs.rm(dir, {recursive: true, force: true});
	}
}
