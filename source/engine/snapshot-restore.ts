import type {Profile} from '../model/profile-schema.js';
import {assertVmTarget} from '../model/ssh-hosts-rules.js';
import type {NodePlan, Plan} from '../model/plan.js';
import {nodeWaitReporter, type RunEventListener} from '../model/events.js';
import {faultsBlock} from '../model/fault.js';
import {ProblemError} from '../model/field-error.js';
import {PRE_RESTORE_TAG, snapshotChanges, type RestoreTimings, type SnapshotMeta} from '../model/snapshot.js';
import {checksThatChangeNothing} from '../services/checks/registry.js';
import {stepGuestClock} from '../services/guest-clock.js';
import {listSnapshots, readSnapshotMeta} from '../services/snapshots.js';
import {waitForSsh, type NodeSsh} from '../services/ssh.js';
import {runningAccel, type StateStore} from '../services/state.js';
import {appendTimeline} from '../services/timeline.js';
import {closeMonitors, connectMonitors, onEveryNode, OperationRecord, pauseAll, resumeAll, type NodeMonitor} from './cluster-pause.js';
import {assertSnapshotName, openSnapshotState, SAVE_TIMEOUT_MS, snapshotLog} from './snapshot.js';
import {sshTargetFor} from './up.js';
import type {Report} from './validation.js';

// Restore of a whole-cluster snapshot into the running cluster: refused when
// the plan changed in a way the snapshot cannot satisfy or a disk lacks it; else
// every node is paused, (with rollback: saved aside,) loaded, and all resume
// together; then guest clocks are stepped over SSH and the profile's checks run.

// left: the profile's checks not run because they change a node (restore --full runs them too).
export type RestoreResult = {meta: SnapshotMeta; report?: Report; timings: RestoreTimings; clockSteps: Record<string, number>; left: Array<{check: string; why: string}>};

// The metadata, or a refusal that says what changed since it was taken.
export async function restorableSnapshot(plan: Plan, name: string, accel: Plan['accel'] = plan.accel): Promise<SnapshotMeta> {
	const meta = await readSnapshotMeta(plan, name);
	if (!meta) {
		const known = (await listSnapshots(plan)).snapshots.map(s => s.name);
		throw new ProblemError({message: `no snapshot ${name} of "${plan.profileName}"`, fix: known.length > 0 ? `one of: ${known.join(', ')}` : `save one first: plasma-tui snapshot save ${name} --profile ${plan.profileName}`});
	}
	const changes = snapshotChanges(meta, {...plan, accel});
	if (changes.length > 0) {
		throw new ProblemError({message: `snapshot ${name} cannot be restored: the profile changed since it was taken: ${changes.join('; ')}`, fix: 'restore it with the profile as it was, or save a new snapshot of the cluster as it is now'});
	}
	return meta;
}

// One node answers on SSH and gets the host's time; the session is the caller's to close.
export async function reachAndStepClock(profile: Profile, plan: Plan, node: NodePlan, emit: RunEventListener, signal?: AbortSignal): Promise<{ssh: NodeSsh; step: number; answeredMs: number; clockMs: number}> {
	const target = sshTargetFor(plan, node);
	const started = Date.now();
	// A restored node's sshd is up already: poll at the fast pace from the first retry.
	// The default 10 s attempt: a handshake with a TCG guest on a loaded host can take 3-5 s, and a
	// shorter attempt throws that work away (measured: "did not finish the SSH handshake within 3 s").
	const ssh = await waitForSsh(target, {timeoutMs: profile.boot.sshTimeoutSec * 1000, signal, wake: {promise: Promise.resolve()}, onWait: nodeWaitReporter(emit, node.name, `ssh on ${target.host}:${target.port}`)});
	try {
		const answeredMs = Date.now() - started;
		const step = await stepGuestClock(ssh, {signal});
		const clockMs = Date.now() - started - answeredMs;
		snapshotLog(emit)(`ssh answered after ${answeredMs} ms; guest clock stepped forward by ${step} s (${clockMs} ms)`, 'info', node.name);
		return {ssh, step, answeredMs, clockMs};
	} catch (error) {
		ssh.close();
		throw error;
	}
}

async function tagsPresent(monitors: readonly NodeMonitor[], name: string): Promise<void> {
	const held = await Promise.all(monitors.map(async m => (await m.qmp.internalSnapshots()).some(d => d.snapshots.some(s => s.name === name))));
	const lacking = monitors.filter((_, index) => !held[index]).map(m => m.node.name);
	if (lacking.length > 0) throw new ProblemError({message: `the disk of ${lacking.join(', ')} does not hold snapshot ${name}; nothing was changed`, fix: `plasma-tui snapshot delete ${name}, then save it again`});
}

// rollback: a copy of every node's state is saved aside first (savevm of the whole RAM, 0.4-0.6 s
// and ~0.9 CPU-s for the demo on 2 cores: an eighth of a restore), so that a failed load puts
// every node back. Without it (the default, as libvirt's revert), a failed load is tried once
// more on that node, and the error says which node is at the snapshot and which is in no known state.
export type LoadOptions = {rollback: boolean};

// Pause, (save aside,) load, resume: with rollback all nodes or none, without it a failed load is
// tried again. Throws with where each node is when a load still fails and cannot be undone.
export async function loadEverywhere(monitors: readonly NodeMonitor[], name: string, record: OperationRecord, log: ReturnType<typeof snapshotLog>, options: LoadOptions): Promise<{pauseMs: number; asideMs: number; loadMs: number}> {
	const start = Date.now();
	const names = monitors.map(m => m.node.name);
	const pause = await pauseAll(monitors);
	await record.set(names, 'paused');
	const asideStart = Date.now();
	if (options.rollback) await saveAside(monitors, record);
	const loadStart = Date.now();
	const loads = await onEveryNode(monitors, async m => {
		await m.qmp.hmp(`loadvm ${name}`, SAVE_TIMEOUT_MS);
		await record.set([m.node.name], `loaded ${name}`);
	});
	const failed = loads.filter(l => !l.ok);
	if (failed.length > 0) {
		await record.set(failed.map(f => f.monitor.node.name), `failed to load ${name}`);
		const why = failed.map(f => `${f.monitor.node.name}: ${f.ok ? '' : f.why}`).join('; ');
		if (options.rollback) await rollBack(monitors, failed.map(f => f.monitor), name, why, record);
		await loadAgain(monitors, failed.map(f => f.monitor), name, why, record);
	}
	const resumedAt = await resumeAll(monitors);
	await record.set(names, `running ${name}`);
	log(`loaded ${name} on ${names.length} nodes; paused ${((resumedAt - pause.firstAt) / 1000).toFixed(2)} s (spread ${pause.spreadMs.toFixed(1)} ms)${options.rollback ? '' : ', no rollback copy'}`);
	return {pauseMs: asideStart - start, asideMs: loadStart - asideStart, loadMs: Date.now() - loadStart};
}

async function saveAside(monitors: readonly NodeMonitor[], record: OperationRecord): Promise<void> {
	const aside = await onEveryNode(monitors, m => m.qmp.hmp(`savevm ${PRE_RESTORE_TAG}`, SAVE_TIMEOUT_MS));
	const notAside = aside.filter(a => !a.ok);
	if (notAside.length > 0) {
		await resumeAll(monitors);
		throw new ProblemError({message: `could not save the nodes' state before the restore (${notAside.map(a => `${a.monitor.node.name}: ${a.ok ? '' : a.why}`).join('; ')}); nothing was loaded and every node runs again`});
	}
	await record.set(monitors.map(m => m.node.name), `paused, saved as ${PRE_RESTORE_TAG}`);
}

// Every node back to where it was, the failed one too (a half load leaves it in no known state). Always throws.
async function rollBack(monitors: readonly NodeMonitor[], failed: readonly NodeMonitor[], name: string, why: string, record: OperationRecord): Promise<never> {
	const back = await onEveryNode(monitors, async m => {
		await m.qmp.hmp(`loadvm ${PRE_RESTORE_TAG}`, SAVE_TIMEOUT_MS);
		await record.set([m.node.name], 'rolled back');
	});
	await resumeAll(monitors).catch(() => undefined);
	const notBack = back.filter(b => !b.ok).map(b => b.monitor.node.name);
	if (notBack.length === 0) throw new ProblemError({message: `restore of ${name} failed (${why}); every node was rolled back to its state before the restore and runs again`});
	const at = monitors.map(m => `${m.node.name} ${notBack.includes(m.node.name) ? (failed.includes(m) ? 'in no known state' : `at ${name}`) : 'rolled back'}`);
	throw new ProblemError({message: `restore of ${name} failed (${why}) and could not be rolled back everywhere: ${at.join(', ')}`, fix: `restore again, or load the state before the restore: its tag is ${PRE_RESTORE_TAG}`});
}

// No rollback copy: the failed nodes get one more load; what still fails is said node by node.
async function loadAgain(monitors: readonly NodeMonitor[], failed: readonly NodeMonitor[], name: string, why: string, record: OperationRecord): Promise<void> {
	const again = await onEveryNode(failed, async m => {
		await m.qmp.hmp(`loadvm ${name}`, SAVE_TIMEOUT_MS);
		await record.set([m.node.name], `loaded ${name} (second try)`);
	});
	const still = again.filter(a => !a.ok).map(a => a.monitor);
	if (still.length === 0) return;
	await resumeAll(monitors).catch(() => undefined);
	const at = monitors.map(m => `${m.node.name} ${still.includes(m) ? 'in no known state' : `at ${name}`}`);
	throw new ProblemError({message: `restore of ${name} failed (${why}), twice on ${still.map(m => m.node.name).join(', ')}; without a rollback copy the nodes are: ${at.join(', ')}; every node runs`, fix: `restore again (--rollback keeps a copy of the state before the restore, to go back to if a load fails), or bring the cluster up again`});
}

// rollback: true saves a copy of every node aside before the load (snapshot restore --rollback).
// full: also the checks that change a node (persistence restarts etcd: the restored state moves on).
export type RestoreOptions = {onEvent: RunEventListener; signal?: AbortSignal; state?: StateStore; rollback?: boolean; full?: boolean};

export async function restoreSnapshot(profile: Profile, plan: Plan, rawName: string | undefined, options: RestoreOptions): Promise<RestoreResult> {
	assertVmTarget(plan.target, profile.name, 'snapshot restore');
	const name = assertSnapshotName(rawName);
	const emit = options.onEvent;
	const log = snapshotLog(emit);
	const state = options.state ?? (await openSnapshotState(profile, plan, emit));
	const blocked = faultsBlock(state.current.faults ?? [], `snapshot restore ${name}`);
	if (blocked) throw new ProblemError(blocked);
	const meta = await restorableSnapshot(plan, name, runningAccel(state.current, plan.accel));
	const monitors = await connectMonitors(plan);
	const record = new OperationRecord(state, 'restore', name);
	const start = Date.now();
	let loaded: {pauseMs: number; asideMs: number; loadMs: number};
	try {
		await tagsPresent(monitors, name);
		await record.begin(monitors.map(m => m.node.name), 'running');
		loaded = await loadEverywhere(monitors, name, record, log, {rollback: options.rollback === true});
	} catch (error) {
		// Whatever happened, no node stays paused: the error says where each one is.
		await resumeAll(monitors).catch(() => undefined);
		await record.end().catch(() => undefined);
		closeMonitors(monitors);
		throw error;
	}
	const sessions: NodeSsh[] = [];
	// A node that answers after the restore ended (interrupted, failed) is let go at once.
	let ended = false;
	try {
		// Each node's checks start as soon as it answers with its clock stepped (cluster checks
		// when the nodes they need are in: model/check-start.ts), not after the slowest node.
		const sshStart = Date.now();
		let lastArrival = sshStart;
		const clockSteps: Record<string, number> = {};
		const times: NonNullable<RestoreTimings['nodes']> = {};
		for (const saved of meta.nodes) await state.markInstalled(saved.name, saved.installed);
		const arrivals = new Map(
			plan.nodes.map(node => [
				node.name,
				reachAndStepClock(profile, plan, node, emit, options.signal).then(
					reached => {
						if (ended) {
							reached.ssh.close();
							return {notRun: 'the restore ended'};
						}
						sessions.push(reached.ssh);
						clockSteps[node.name] = reached.step;
						times[node.name] = {answeredMs: reached.answeredMs, clockMs: reached.clockMs};
						lastArrival = Math.max(lastArrival, Date.now());
						return {ssh: reached.ssh};
					},
					(error: unknown) => ({notRun: `${node.name} was loaded from ${name} and runs, but ${(error as Error).message}`}),
				),
			]),
		);
		const {validateRunning} = await import('./validate-running.js');
		const {checks, left} = options.full ? {checks: profile.checks, left: []} : checksThatChangeNothing(profile.checks);
		const {report} = await validateRunning(profile, plan, {checks, onEvent: emit, signal: options.signal, state, arrivals});
		const end = Date.now();
		// ssh+clock: until the last node answered; checks: what ran on after that (the parts add up to the total).
		const sshMs = lastArrival - sshStart;
		const timings: RestoreTimings = {...loaded, sshMs, checksMs: end - lastArrival, totalMs: end - start, nodes: times};
		// The rollback copy is dropped once the restore stands (outside the timings).
		if (options.rollback === true) await onEveryNode(monitors, m => m.qmp.hmp(`delvm ${PRE_RESTORE_TAG}`, SAVE_TIMEOUT_MS));
		await appendTimeline(plan.timelineFile, {
			at: new Date(start).toISOString(),
			kind: 'snapshot',
			subject: 'cluster',
			to: `restored ${name}`,
			detail: `snapshot ${name} (taken ${meta.takenAt}) restored on ${meta.nodes.length} nodes; checks ${report?.ok ? 'green' : 'not green'} after ${(timings.totalMs / 1000).toFixed(1)} s${left.length > 0 ? ` (not run: ${left.map(l => l.check).join(', ')})` : ''}`,
			data: {name, pauseMs: timings.pauseMs, asideMs: timings.asideMs, loadMs: timings.loadMs, sshMs, checksMs: timings.checksMs, totalMs: timings.totalMs, checksOk: report?.ok === true},
		});
		return {meta, report, timings, clockSteps, left};
	} finally {
		ended = true;
		for (const ssh of sessions) ssh.close();
		await record.end().catch(() => undefined);
		closeMonitors(monitors);
	}
}
