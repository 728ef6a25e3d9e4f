import {test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {withAccel, withSnapshotBoot} from '../../source/model/plan.js';
import {formatRestoreTimings, PRE_RESTORE_TAG, restoreLeftOut, snapshotChanges, snapshotFileFor, snapshotMetaSchema, snapshotNameProblems, snapshotNodeOf, snapshotSizeBytes, type SnapshotMeta} from '../../source/model/snapshot.js';
import {checksThatChangeNothing} from '../../source/services/checks/registry.js';
import type {CheckSpec} from '../../source/model/profile-schema.js';
import {planIn, template, tempDir} from '../helpers.js';

const dir = tempDir('plasma-snapmodel-');

function metaOf(plan: ReturnType<typeof planIn>): SnapshotMeta {
	return {
		version: 1,
		name: 's1',
		profile: plan.profileName,
		takenAt: '2026-12-01T10:00:00.000Z',
		accel: plan.accel,
		nodes: plan.nodes.map(node => ({...snapshotNodeOf(node), installed: true, vmStateBytes: 100 * 2 ** 20, diskGrowthBytes: 2 ** 20})),
		pauseSpreadMs: 0.4,
		pausedMs: 600,
		saveMs: 350,
	};
}

test('a snapshot of the plan as it is can be restored: no changes', () => {
	const plan = planIn(dir);
	const meta = snapshotMetaSchema.parse(metaOf(plan));
	assert.deepEqual(snapshotChanges(meta, plan), []);
	// The disk growth is what it costs on disk (the saved RAM is inside the disk file).
	assert.equal(snapshotSizeBytes(meta), 3 * 2 ** 20);
	assert.equal(snapshotSizeBytes({...meta, nodes: meta.nodes.map(n => ({...n, diskGrowthBytes: 0}))}), 3 * 100 * 2 ** 20);
	assert.equal(snapshotFileFor(plan, 's1'), path.join(plan.workDir, 'snapshots', 's1.json'));
});

test('a changed node set, MAC, IP, memory or disk is named, with then and now', () => {
	const meta = metaOf(planIn(dir));
	const fewer = template();
	fewer.nodes = fewer.nodes.slice(0, 2);
	assert.deepEqual(snapshotChanges(meta, planIn(dir, fewer)), ['node set: the snapshot has 3 node(s) (node01, node02, node03), the profile has 2 (node01, node02)']);

	const edited = template();
	edited.network.hostOffset = 21;
	edited.nodes[1]!.mac = '52:54:00:aa:bb:cc';
	edited.nodes[2]!.memoryMiB = 1024;
	edited.nodes[2]!.diskGiB = 2;
	const changes = snapshotChanges(meta, planIn(dir, edited));
	assert.ok(changes.some(c => /^node01 IP: 192\.168\.100\.11 in the snapshot, 192\.168\.100\.21 now$/.test(c)), changes.join('\n'));
	assert.ok(changes.some(c => /^node02 MAC: \S+ in the snapshot, 52:54:00:aa:bb:cc now$/.test(c)), changes.join('\n'));
	assert.ok(changes.includes('node03 memory (MiB): 512 in the snapshot, 1024 now'), changes.join('\n'));
	assert.ok(changes.some(c => /^node03 disk layout: \S+disk\.qcow2 1 GiB in the snapshot, \S+disk\.qcow2 2 GiB now$/.test(c)), changes.join('\n'));
});

test('a snapshot taken under another accelerator is refused', () => {
	const plan = planIn(dir);
	const meta = metaOf(withAccel(plan, 'tcg'));
	assert.deepEqual(snapshotChanges(meta, withAccel(plan, 'kvm')), ['accelerator: the snapshot was taken under TCG, this run uses KVM']);
});

test('snapshot names are QEMU tags and file names: no separators, not the rollback tag', () => {
	assert.deepEqual(snapshotNameProblems('s1'), []);
	assert.deepEqual(snapshotNameProblems('before-upgrade_2.0'), []);
	for (const bad of ['', '../x', 'a b', '-x', 'a/b', 'x'.repeat(41), PRE_RESTORE_TAG]) {
		assert.equal(snapshotNameProblems(bad).length, 1, bad);
		assert.ok(snapshotNameProblems(bad)[0]!.fix);
	}
});

test('up --from-snapshot adds only -loadvm to the arguments the normal boot uses, and keeps it across the accelerator choice', () => {
	const plan = planIn(dir);
	const from = withAccel(withSnapshotBoot(plan, 's1'), 'tcg');
	for (const [index, node] of from.nodes.entries()) {
		const normal = withAccel(plan, 'tcg').nodes[index]!.qemuArgs;
		assert.deepEqual(node.qemuArgs, [...normal, '-loadvm', 's1']);
	}
	assert.ok(!plan.nodes[0]!.qemuArgs.includes('-loadvm'));
	assert.ok(plan.creates.some(thing => thing.path === plan.snapshotsDir));
});

test('metadata is read strictly: an unknown key is an error', () => {
	const meta = {...metaOf(planIn(dir)), extra: 1};
	assert.equal(snapshotMetaSchema.safeParse(meta).success, false);
});

test('a restore\'s timings say every part, each node\'s SSH answer and clock step, and the three slowest checks (a check on several nodes by its slowest)', () => {
	const line = formatRestoreTimings(
		{pauseMs: 12, asideMs: 680, loadMs: 466, sshMs: 3771, checksMs: 9150, totalMs: 14100, nodes: {node02: {answeredMs: 2700, clockMs: 137}, node01: {answeredMs: 3273, clockMs: 497}}},
		{results: [{check: 'ssh', node: 'node01', durationMs: 105}, {check: 'ssh', node: 'node02', durationMs: 205}, {check: 'persistence :2379', durationMs: 4926}, {check: 'crud :2379', durationMs: 892}, {check: 'metrics :2379', node: 'node01', durationMs: 260}, {check: 'metrics :2379', node: 'node02', durationMs: 525}]},
	);
	assert.equal(line, 'pause 12 ms, save aside 680 ms, load+resume 466 ms, ssh+clock 3771 ms (node01 3.3 s+0.5 s, node02 2.7 s+0.1 s), checks 9150 ms (slowest: persistence :2379 4.9 s, crud :2379 0.9 s, metrics :2379 0.5 s)');
	assert.equal(formatRestoreTimings({pauseMs: 1, asideMs: 0, loadMs: 2, sshMs: 3, checksMs: 0, totalMs: 6}), 'pause 1 ms, save aside 0 ms, load+resume 2 ms, ssh+clock 3 ms, checks 0 ms');
});

test('a restore leaves out the checks that change a node and its last line says which, why, and how to run them', () => {
	const demo = [
		{type: 'ssh', timeoutSec: 30},
		{type: 'persistence', port: 2379, restartCommand: '/sbin/svc restart etcd', timeoutSec: 90},
		{type: 'crud', port: 2379, timeoutSec: 60},
	] as CheckSpec[];
	const {checks, left} = checksThatChangeNothing(demo);
	assert.deepEqual(checks.map(c => c.type), ['ssh', 'crud']);
	assert.equal(restoreLeftOut(left), ' (not run: persistence :2379: it restarts the service on a member; snapshot restore --full runs it too)');
	assert.equal(restoreLeftOut([]), '');
});
