import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {onEveryNode, OperationRecord, pauseAll, resumeAll, type NodeMonitor} from '../../source/engine/cluster-pause.js';
import {loadEverywhere} from '../../source/engine/snapshot-restore.js';
import {PRE_RESTORE_TAG} from '../../source/model/snapshot.js';
import {StateStore} from '../../source/services/state.js';
import type {NodePlan} from '../../source/model/plan.js';
import {QmpClient} from '../../source/services/qmp.js';
import {hostTools, skipUnless, tempDir} from '../helpers.js';

const skip = skipUnless(await hostTools({'qemu-system-x86_64': 'qemu-system-x86', 'qemu-img': 'qemu-utils'}));

async function waitForSocket(file: string, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!fs.existsSync(file)) {
		if (Date.now() > deadline) throw new Error(`no socket ${file}`);
		await new Promise(resolve => setTimeout(resolve, 50));
	}
}

// The socket file appears a moment before QEMU listens on it (ECONNREFUSED on a loaded machine).
async function connectWhenListening(socket: string, timeoutMs: number): Promise<QmpClient> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			return await QmpClient.connect(socket, 10_000);
		} catch (error) {
			if (Date.now() > deadline || !/ECONNREFUSED/.test((error as Error).message)) throw error;
			await new Promise(resolve => setTimeout(resolve, 100));
		}
	}
}

// Two tiny real QEMUs (firmware only, a qcow2 disk each): what a whole-cluster snapshot asks of QMP.
type Vm = {name: string; child: ReturnType<typeof spawn>; qmp: QmpClient};

// Tiny real QEMUs (firmware only, a qcow2 disk each), one per name. None is left running when one fails to start.
async function startVms(dir: string, names: string[]): Promise<Vm[]> {
	const children: Array<ReturnType<typeof spawn>> = [];
	const started = await Promise.allSettled(
		names.map(async name => {
			const disk = path.join(dir, `${name}.qcow2`);
			await execa('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
			const socket = path.join(dir, `${name}.sock`);
			const child = spawn('qemu-system-x86_64', ['-display', 'none', '-nodefaults', '-accel', 'tcg', '-m', '32', '-drive', `file=${disk},if=virtio,format=qcow2`, '-qmp', `unix:${socket},server=on,wait=off`], {stdio: 'ignore'});
			children.push(child);
			await waitForSocket(socket, 20_000);
			return {name, child, qmp: await connectWhenListening(socket, 20_000)};
		}),
	);
	const failed = started.find(s => s.status === 'rejected');
	if (!failed) return started.map(s => (s as PromiseFulfilledResult<Vm>).value);
	for (const s of started) if (s.status === 'fulfilled') s.value.qmp.close();
	for (const child of children) child.kill('SIGKILL');
	throw failed.reason;
}

function stopVms(vms: Vm[]): void {
	for (const vm of vms) {
		vm.qmp.close();
		vm.child.kill('SIGKILL');
	}
}

test('pause two VMs at once, savevm, see the tag and its size, loadvm, refuse a missing tag, delvm, resume', {timeout: 120_000, skip}, async () => {
	const dir = tempDir('plasma-snapqmp-');
	const vms = await startVms(dir, ['a', 'b']);
	const monitors: NodeMonitor[] = vms.map(vm => ({node: {name: vm.name} as NodePlan, qmp: vm.qmp}));
	try {
		const pause = await pauseAll(monitors);
		assert.ok(pause.spreadMs >= 0 && pause.spreadMs < 2000, `spread ${pause.spreadMs}`);
		for (const m of monitors) assert.equal(await m.qmp.runState(), 'paused');
		// A node already paused is not paused twice (no STOP event would come).
		assert.equal((await pauseAll(monitors)).spreadMs, 0);

		const saved = await onEveryNode(monitors, m => m.qmp.hmp('savevm s1', 60_000));
		assert.ok(saved.every(s => s.ok), JSON.stringify(saved.map(s => (s.ok ? 'ok' : s.why))));
		for (const m of monitors) {
			const tags = (await m.qmp.internalSnapshots()).flatMap(d => d.snapshots);
			assert.equal(tags.length, 1);
			assert.equal(tags[0]!.name, 's1');
			assert.ok(tags[0]!.vmStateBytes > 0, 'the RAM and device state are in it');
			// savevm of a paused VM leaves it paused: the cluster resumes together.
			assert.equal(await m.qmp.runState(), 'paused');
		}
		const loads = await onEveryNode(monitors, m => m.qmp.hmp('loadvm s1', 60_000));
		assert.ok(loads.every(l => l.ok));
		const missing = await onEveryNode(monitors.slice(0, 1), m => m.qmp.hmp('loadvm nope', 60_000));
		assert.equal(missing[0]!.ok, false);
		assert.match(missing[0]!.ok ? '' : missing[0]!.why, /^QMP: loadvm: Error: .*nope/);

		await resumeAll(monitors);
		for (const m of monitors) assert.equal(await m.qmp.runState(), 'running');
		await onEveryNode(monitors, m => m.qmp.hmp('delvm s1', 60_000));
		for (const m of monitors) assert.deepEqual((await m.qmp.internalSnapshots()).flatMap(d => d.snapshots), []);
	} finally {
		stopVms(vms);
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('a load that fails on one node rolls every node back and resumes them all, and the state file said so while it ran', {timeout: 120_000, skip}, async () => {
	const dir = tempDir('plasma-snapqmp-');
	const vms = await startVms(dir, ['a', 'b']);
	const monitors: NodeMonitor[] = vms.map(vm => ({node: {name: vm.name} as NodePlan, qmp: vm.qmp}));
	const state = await StateStore.open(path.join(dir, 'work', 'state.json'), 'p', path.join(dir, 'work'));
	const record = new OperationRecord(state, 'restore', 'only-a');
	const seen: string[] = [];
	try {
		// "only-a" exists on a, not on b: b's load fails after a's succeeded.
		await vms[0]!.qmp.hmp('savevm only-a', 60_000);
		await record.begin(['a', 'b'], 'running');
		// Every step as it is written to the state file, in order.
		const set = record.set.bind(record);
		record.set = async (nodes, where) => {
			await set(nodes, where);
			seen.push(JSON.stringify(state.current.snapshot?.nodes));
		};
		await assert.rejects(loadEverywhere(monitors, 'only-a', record, () => undefined, {rollback: true}), /restore of only-a failed \(b: QMP: loadvm: Error: .*\); every node was rolled back to its state before the restore and runs again/);
		for (const m of monitors) assert.equal(await m.qmp.runState(), 'running');
		assert.deepEqual(state.current.snapshot?.nodes, {a: 'rolled back', b: 'rolled back'});
		const failedAt = seen.findIndex(s => s.includes('"b":"failed to load only-a"'));
		const rolledAt = seen.findIndex(s => s.includes('rolled back'));
		assert.ok(failedAt >= 0 && failedAt < rolledAt, `the failed load was on record before the rollback: ${seen.join(' ')}`);
		// The copy set aside is there to roll back to on both.
		for (const m of monitors) assert.ok((await m.qmp.internalSnapshots()).flatMap(d => d.snapshots).some(t => t.name === PRE_RESTORE_TAG));
	} finally {
		stopVms(vms);
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('without a rollback copy, a load that fails is tried again, and the error says which node is at the snapshot and which in no known state', {timeout: 120_000, skip}, async () => {
	const dir = tempDir('plasma-snapqmp-');
	const vms = await startVms(dir, ['a', 'b']);
	const monitors: NodeMonitor[] = vms.map(vm => ({node: {name: vm.name} as NodePlan, qmp: vm.qmp}));
	const state = await StateStore.open(path.join(dir, 'work', 'state.json'), 'p', path.join(dir, 'work'));
	const record = new OperationRecord(state, 'restore', 'only-a');
	try {
		await vms[0]!.qmp.hmp('savevm only-a', 60_000);
		await record.begin(['a', 'b'], 'running');
		await assert.rejects(loadEverywhere(monitors, 'only-a', record, () => undefined, {rollback: false}), /restore of only-a failed \(b: QMP: loadvm: Error: .*\), twice on b; without a rollback copy the nodes are: a at only-a, b in no known state; every node runs/);
		for (const m of monitors) assert.equal(await m.qmp.runState(), 'running');
		assert.equal(state.current.snapshot?.nodes['a'], 'loaded only-a');
		assert.equal(state.current.snapshot?.nodes['b'], 'failed to load only-a');
		// Nothing was set aside.
		for (const m of monitors) assert.ok(!(await m.qmp.internalSnapshots()).flatMap(d => d.snapshots).some(t => t.name === PRE_RESTORE_TAG));

		// Both hold it: the load goes through with no copy made, and the nodes run.
		await vms[1]!.qmp.hmp('savevm only-a', 60_000);
		const loaded = await loadEverywhere(monitors, 'only-a', record, () => undefined, {rollback: false});
		assert.equal(loaded.asideMs < 50, true, `no save aside: ${loaded.asideMs} ms`);
		for (const m of monitors) assert.equal(await m.qmp.runState(), 'running');
		for (const m of monitors) assert.ok(!(await m.qmp.internalSnapshots()).flatMap(d => d.snapshots).some(t => t.name === PRE_RESTORE_TAG));
	} finally {
		stopVms(vms);
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
