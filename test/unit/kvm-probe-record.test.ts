import {test} from 'node:test';
import assert from 'node:assert/strict';
import {constants as fsConstants} from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import {probeKvm} from '../../source/services/preflight.js';
import type {ProcessEntry} from '../../source/services/state.js';
import {skipUnless, tempDir} from '../helpers.js';

// The KVM probe that runs alongside image and certificates in `up` is one of the run's processes:
// in the state file before it starts, with its pid once it runs, gone when it ends; Ctrl-C stops it.
// A stand-in qemu-system-x86_64 on the PATH that never answers (as a hanging guest would).

const kvm = await fs.promises.access('/dev/kvm', fsConstants.R_OK | fsConstants.W_OK).then(
	() => ({missing: false as const, fix: ''}),
	() => ({missing: '/dev/kvm is not accessible' as const, fix: 'run as a user in the kvm group'}),
);
const skip = skipUnless([kvm]);

function fakeState() {
	const calls: string[] = [];
	const current = {processes: [] as ProcessEntry[]};
	return {
		calls,
		state: {
			current,
			async recordProcess(entry: ProcessEntry) {
				calls.push(`record ${entry.kind} ${entry.status} pid=${entry.pid ?? '-'}`);
				current.processes.push(entry);
			},
			async setProcess(kind: ProcessEntry['kind'], _node: string | undefined, patch: Partial<ProcessEntry>) {
				calls.push(`set ${kind} ${patch.status} pid=${patch.pid === undefined ? '-' : 'n'}`);
				Object.assign(current.processes.find(p => p.kind === kind)!, patch);
			},
			async removeProcess(kind: ProcessEntry['kind']) {
				calls.push(`remove ${kind}`);
				current.processes = current.processes.filter(p => p.kind !== kind);
			},
		},
	};
}

test('the KVM probe is recorded before it starts, and Ctrl-C stops it at once', {skip, timeout: 20_000}, async () => {
	const dir = tempDir('plasma-kvm-probe-record-');
	try {
		const qemu = path.join(dir, 'qemu-system-x86_64');
		fs.writeFileSync(qemu, '#!/bin/sh\nexec sleep 30\n', {mode: 0o755});
		const {calls, state} = fakeState();
		const controller = new AbortController();
		let pid: number | undefined;
		const recorded = new Promise<void>(resolve => {
			const set = state.setProcess.bind(state);
			state.setProcess = async (kind, node, patch) => {
				await set(kind, node, patch);
				pid = patch.pid;
				resolve();
			};
		});
		const started = Date.now();
		const probe = probeKvm({...process.env, PATH: `${dir}:${process.env['PATH']}`}, {signal: controller.signal, state});
		await recorded;
		assert.ok(pid, 'its pid is on record while it runs');
		process.kill(pid, 0);
		controller.abort(new Error('interrupted'));
		await assert.rejects(probe, /interrupted/);
		assert.ok(Date.now() - started < 2500, `stopped by the signal, not by the probe's 3 s timeout (${Date.now() - started} ms)`);
		assert.deepEqual(calls, ['record kvm-probe starting pid=-', 'set kvm-probe running pid=n', 'remove kvm-probe']);
		assert.throws(() => process.kill(pid!, 0), /ESRCH/, 'the probe QEMU is gone');
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
