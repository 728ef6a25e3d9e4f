import type {Profile} from '../model/profile-schema.js';
import {assertVmTarget} from '../model/ssh-hosts-rules.js';
import type {Plan} from '../model/plan.js';
import type {RunEventListener} from '../model/events.js';
import {faultsBlock} from '../model/fault.js';
import {ProblemError} from '../model/field-error.js';
import {describeOperation, formatBytes, snapshotNameProblems, snapshotNodeOf, snapshotSizeBytes, type SnapshotMeta} from '../model/snapshot.js';
import {nodePid} from '../services/qemu.js';
import {QmpClient} from '../services/qmp.js';
import {allocatedBytes, deleteDiskSnapshot, diskSnapshotTags, readSnapshotMeta, removeSnapshotMeta, writeSnapshotMeta} from '../services/snapshots.js';
import {runningAccel, StateStore} from '../services/state.js';
import {appendTimeline} from '../services/timeline.js';
import {closeMonitors, connectMonitors, onEveryNode, OperationRecord, pauseAll, resumeAll} from './cluster-pause.js';

// Save and delete of a whole-cluster snapshot (restore: snapshot-restore.ts).
// Each runs under the caller's work-directory lock, writes what it is doing to
// the state file before it does it, emits log events and a timeline entry.

export type SnapshotOptions = {onEvent: RunEventListener};

// savevm of a 512 MiB node takes ~0.2 s here; a large guest writes its whole RAM.
export const SAVE_TIMEOUT_MS = 300_000;

export function snapshotLog(emit: RunEventListener) {
	return (message: string, level: 'info' | 'warn' | 'error' = 'info', node?: string) => emit({type: 'log', level, message, node, at: Date.now()});
}

export function assertSnapshotName(name: string | undefined): string {
	const problem = snapshotNameProblems(name)[0];
	if (problem) throw new ProblemError(problem);
	return name!;
}

export async function openSnapshotState(profile: Profile, plan: Plan, emit: RunEventListener): Promise<StateStore> {
	const state = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
	await settleInterrupted(plan, state, emit);
	return state;
}

// An operation still on record was cut short (the lock is ours, so its process is gone): it is said,
// nodes it left paused run again, and the record is cleared.
async function settleInterrupted(plan: Plan, state: StateStore, emit: RunEventListener): Promise<void> {
	const op = state.current.snapshot;
	if (!op) return;
	const log = snapshotLog(emit);
	log(describeOperation(op), 'warn');
	for (const node of plan.nodes) {
		if (!(await nodePid(node, plan))) continue;
		const qmp = await QmpClient.connect(node.runtime.qmpSocket).catch(() => undefined);
		if (!qmp) continue;
		try {
			if ((await qmp.runState()) === 'paused') {
				await qmp.execute('cont');
				log('was left paused: resumed', 'warn', node.name);
			}
		} finally {
			qmp.close();
		}
	}
	if (op.action === 'restore') log(`the nodes may hold different moments: run \`snapshot restore ${op.name}\` again`, 'warn');
	if (op.action === 'save') log(`snapshot ${op.name} was not completed: \`snapshot delete ${op.name}\` drops what the nodes saved of it`, 'warn');
	await state.update(s => {
		delete s.snapshot;
	});
}

export async function saveSnapshot(profile: Profile, plan: Plan, rawName: string | undefined, options: SnapshotOptions): Promise<SnapshotMeta> {
	assertVmTarget(plan.target, profile.name, 'snapshot save');
	const name = assertSnapshotName(rawName);
	const log = snapshotLog(options.onEvent);
	if (await readSnapshotMeta(plan, name)) {
		throw new ProblemError({message: `snapshot ${name} exists already`, fix: `choose another name, or drop it first: plasma-tui snapshot delete ${name}`});
	}
	const state = await openSnapshotState(profile, plan, options.onEvent);
	const blocked = faultsBlock(state.current.faults ?? [], `snapshot save ${name}`);
	if (blocked) throw new ProblemError(blocked);
	const monitors = await connectMonitors(plan);
	const names = monitors.map(m => m.node.name);
	const record = new OperationRecord(state, 'save', name);
	let paused = false;
	try {
		await record.begin(names, 'running');
		const before = await Promise.all(plan.nodes.map(node => allocatedBytes(node.disk.path)));
		const pause = await pauseAll(monitors);
		paused = true;
		await record.set(names, 'paused');
		log(`paused ${names.length} nodes within ${pause.spreadMs.toFixed(1)} ms of each other`);
		const saveStart = Date.now();
		const saved = await onEveryNode(monitors, async m => {
			await m.qmp.hmp(`savevm ${name}`, SAVE_TIMEOUT_MS);
			await record.set([m.node.name], 'saved');
			log(`saved (${Date.now() - saveStart} ms)`, 'info', m.node.name);
		});
		const saveMs = Date.now() - saveStart;
		const failed = saved.filter(s => !s.ok);
		if (failed.length > 0) {
			// No half snapshot: the nodes that saved drop it again.
			await onEveryNode(saved.filter(s => s.ok).map(s => s.monitor), m => m.qmp.hmp(`delvm ${name}`, SAVE_TIMEOUT_MS));
			await resumeAll(monitors);
			paused = false;
			await record.end();
			throw new ProblemError({
				message: `snapshot ${name} was not saved: ${failed.map(f => `${f.monitor.node.name}: ${f.ok ? '' : f.why}`).join('; ')}; the nodes that had saved it dropped it again, and every node runs again`,
				fix: 'every writable disk of a node must be qcow2, and the disk needs room for the node\'s RAM',
			});
		}
		const resumedAt = await resumeAll(monitors);
		paused = false;
		await record.set(names, 'running');
		const pausedMs = Math.max(0, resumedAt - pause.firstAt);
		log(`cluster wall clock gap: ${(pausedMs / 1000).toFixed(2)} s paused (the guests' clocks fall behind by as much)`);
		const vmState = await Promise.all(monitors.map(async m => (await m.qmp.internalSnapshots()).flatMap(d => d.snapshots).find(s => s.name === name)?.vmStateBytes ?? 0));
		const after = await Promise.all(plan.nodes.map(node => allocatedBytes(node.disk.path)));
		const meta: SnapshotMeta = {
			version: 1,
			name,
			profile: profile.name,
			takenAt: new Date(pause.firstAt).toISOString(),
			accel: runningAccel(state.current, plan.accel),
			nodes: plan.nodes.map((node, index) => ({
				...snapshotNodeOf(node),
				installed: state.current.nodes[node.name]?.installed === true,
				vmStateBytes: vmState[index] ?? 0,
				diskGrowthBytes: (after[index] ?? 0) - (before[index] ?? 0),
			})),
			pauseSpreadMs: Math.round(pause.spreadMs * 10) / 10,
			pausedMs,
			saveMs,
		};
		const file = await writeSnapshotMeta(plan, meta);
		log(`snapshot ${name} saved: ${meta.nodes.length} nodes, ${formatBytes(snapshotSizeBytes(meta))}, in ${saveMs} ms; metadata ${file}`);
		await appendTimeline(plan.timelineFile, {
			at: meta.takenAt,
			kind: 'snapshot',
			subject: 'cluster',
			to: `saved ${name}`,
			detail: `snapshot ${name} saved: ${meta.nodes.length} nodes paused within ${meta.pauseSpreadMs} ms, ${pausedMs} ms paused`,
			data: {name, nodes: meta.nodes.length, pauseSpreadMs: meta.pauseSpreadMs, pausedMs, saveMs, bytes: snapshotSizeBytes(meta)},
		});
		await record.end();
		return meta;
	} catch (error) {
		// A failure with nodes still paused: they run again, and the record says where it stopped.
		if (paused) await resumeAll(monitors).then(() => record.end(), () => undefined);
		throw error;
	} finally {
		closeMonitors(monitors);
	}
}

// Drops the snapshot from every node's disk (through the monitor of a running node, with
// qemu-img on a disk no QEMU holds) and its metadata.
export async function deleteSnapshot(profile: Profile, plan: Plan, rawName: string | undefined, options: SnapshotOptions): Promise<{dropped: string[]}> {
	assertVmTarget(plan.target, profile.name, 'snapshot delete');
	const name = assertSnapshotName(rawName);
	const log = snapshotLog(options.onEvent);
	const meta = await readSnapshotMeta(plan, name);
	const state = await openSnapshotState(profile, plan, options.onEvent);
	const record = new OperationRecord(state, 'delete', name);
	const nodes = plan.nodes.filter(n => !meta || meta.nodes.some(saved => saved.name === n.name));
	await record.begin(nodes.map(n => n.name), 'holds it');
	const dropped: string[] = [];
	for (const node of nodes) {
		if (await nodePid(node, plan)) {
			const qmp = await QmpClient.connect(node.runtime.qmpSocket);
			try {
				const held = (await qmp.internalSnapshots()).some(d => d.snapshots.some(s => s.name === name));
				if (held) {
					await qmp.hmp(`delvm ${name}`, SAVE_TIMEOUT_MS);
					dropped.push(node.name);
				}
			} finally {
				qmp.close();
			}
		} else if ((await allocatedBytes(node.disk.path)) > 0 && (await diskSnapshotTags(node.disk.path)).includes(name)) {
			await deleteDiskSnapshot(node.disk.path, name);
			dropped.push(node.name);
		}
		await record.set([node.name], 'dropped');
	}
	if (!meta && dropped.length === 0) {
		await record.end();
		throw new ProblemError({message: `no snapshot ${name}`, fix: `plasma-tui snapshot list --profile ${profile.name}`});
	}
	await removeSnapshotMeta(plan, name);
	log(`snapshot ${name} deleted${dropped.length > 0 ? ` from ${dropped.join(', ')}` : ''}`);
	await appendTimeline(plan.timelineFile, {at: new Date().toISOString(), kind: 'snapshot', subject: 'cluster', to: `deleted ${name}`, detail: `snapshot ${name} deleted`, data: {name}});
	await record.end();
	return {dropped};
}
