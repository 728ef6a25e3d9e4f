import type {Profile} from '../model/profile-schema.js';
import {buildPlan, type Plan, type PlanContext} from '../model/plan.js';
import {ConsoleInput} from '../services/console-input.js';
import {tailFile} from '../services/console-tail.js';
import type {RunOutcome, RunServices} from '../hooks/run-services.js';
import type {SnapshotOutcome, SnapshotServices} from '../hooks/snapshot-services.js';
import type {RunEventListener} from '../model/events.js';
import {restoreLeftOut, snapshotRow} from '../model/snapshot.js';

// The real engine behind the run screens: the same runUp and context as the
// headless `up`, typing into the consoles' sockets, and the console logs
// followed after the run has ended. The plan is built once per run, here,
// and the engine and the consoles share it.
export function realRunServices(context: PlanContext): RunServices & {settled: () => Promise<unknown>; close: () => void; ran: () => boolean} {
	let active: Promise<unknown> = Promise.resolve();
	let input: ConsoleInput | undefined;
	let started = false;
	let runPlan: Plan | undefined;
	return {
		async newHostKeys(profile) {
			const {newHostKeys} = await import('../services/ssh-hosts-preflight.js');
			return newHostKeys(buildPlan(profile, context));
		},
		async startRun(profile: Profile, {onEvent, signal, approvedHostKeys}): Promise<RunOutcome> {
			started = true;
			const plan = buildPlan(profile, context);
			runPlan = plan;
			input?.close();
			input = new ConsoleInput({
				sockets: Object.fromEntries(plan.nodes.map(node => [node.name, node.runtime.consoleSocket])),
				onError: (node, message) => onEvent({type: 'log', node, level: 'warn', message, at: Date.now()}),
			});
			// The engine loads when a run starts, not before the wizard's first frame.
			const [{runUp}, {withWorkLock}] = await Promise.all([import('../engine/up.js'), import('../services/work-lock.js')]);
			// The same lock as the headless commands: never two runs of one work directory.
			const running = withWorkLock(plan, 'tui run', () => runUp(profile, {plan, onEvent, signal, approvedHostKeys}));
			active = running.catch(() => undefined);
			const result = await running;
			return {
				exitCode: result.exitCode,
				failedStage: result.failedStage,
				interrupted: result.interrupted,
				report: result.reportOk !== undefined ? result.plan?.report : undefined,
			};
		},
		// From the state file the fault commands write (another process): read, never written, here.
		async faultMarkers(profile) {
			const plan = runPlan ?? buildPlan(profile, context);
			const [{readState}, {faultMarkers}] = await Promise.all([import('../services/state.js'), import('../model/fault.js')]);
			const faults = (await readState(plan.stateFile).catch(() => undefined))?.faults ?? [];
			return Object.fromEntries(plan.nodes.map(node => [node.name, faultMarkers(faults, node.name)]));
		},
		// After startRun, for the same profile: the run's own plan says where the logs are.
		followConsoles(_profile, {onEvent, signal}) {
			for (const node of runPlan?.nodes ?? []) {
				const tail = tailFile(node.runtime.consoleLog, {
					fromStart: false,
					onLines: lines => {
						for (const line of lines) onEvent({type: 'console', node: node.name, line, at: Date.now()});
					},
				});
				signal.addEventListener('abort', () => tail.stop(), {once: true});
			}
		},
		async nodePowerGuard(profile, node, action) {
			const plan = runPlan ?? buildPlan(profile, context);
			const [{nodePowerVerdict}, {readState}] = await Promise.all([import('../engine/node-power.js'), import('../services/state.js')]);
			const state = await readState(plan.stateFile).catch(() => undefined);
			const verdict = await nodePowerVerdict(plan, node, action, state);
			return {message: verdict.message, losesQuorum: verdict.losesQuorum};
		},
		async powerNode(profile, node, action, {onEvent}) {
			const plan = runPlan ?? buildPlan(profile, context);
			const [{powerNode}, {withWorkLock}] = await Promise.all([import('../engine/node-power.js'), import('../services/work-lock.js')]);
			return withWorkLock(plan, `tui node ${action}`, () => powerNode(profile, plan, node, action, {onEvent}));
		},
		sendToConsole(node, data) {
			input?.send(node, data);
		},
		snapshots: realSnapshotServices(context),
		// Watch mode takes no lock, like the headless `watch`: faults from another terminal still work.
		async watchChecks(profile, {intervalMs, onEvent, onRound, signal}) {
			const plan = runPlan ?? buildPlan(profile, context);
			const [{watchCluster}, {TimelineRecorder}, {checksThatChangeNothing}] = await Promise.all([import('../engine/watch.js'), import('../engine/timeline-recorder.js'), import('../services/checks/registry.js')]);
			const timeline = new TimelineRecorder(plan, 'tui watch', profile.name, message => onEvent({type: 'log', level: 'warn', message, at: Date.now()}));
			await watchCluster(profile, plan, {checks: checksThatChangeNothing(profile.checks).checks, intervalMs, signal, onEvent, onRound, timeline});
		},
		async readTimeline(profile) {
			const {readTimeline} = await import('../services/timeline.js');
			return (await readTimeline((runPlan ?? buildPlan(profile, context)).timelineFile)).entries;
		},
		settled: () => active,
		close: () => input?.close(),
		ran: () => started,
	};
}

// The snapshot list's actions: the same engine as `plasma-tui snapshot`, under the same lock.
function realSnapshotServices(context: PlanContext): SnapshotServices {
	const locked = async (profile: Profile, action: string, work: (plan: Plan, onEvent: RunEventListener) => Promise<string>): Promise<SnapshotOutcome> => {
		const plan = buildPlan(profile, context);
		const {withWorkLock} = await import('../services/work-lock.js');
		const {formatProblem, problemOf} = await import('../model/field-error.js');
		try {
			return {ok: true, message: await withWorkLock(plan, `tui snapshot ${action}`, () => work(plan, () => undefined))};
		} catch (error) {
			return {ok: false, message: formatProblem(problemOf(error))};
		}
	};
	return {
		async list(profile) {
			const {listSnapshots} = await import('../services/snapshots.js');
			return (await listSnapshots(buildPlan(profile, context))).snapshots.map(snapshotRow);
		},
		save: (profile, name) =>
			locked(profile, 'save', async (plan, onEvent) => {
				const {saveSnapshot} = await import('../engine/snapshot.js');
				const meta = await saveSnapshot(profile, plan, name, {onEvent});
				return `saved ${name}: ${meta.nodes.length} nodes paused within ${meta.pauseSpreadMs} ms, cluster paused ${(meta.pausedMs / 1000).toFixed(2)} s`;
			}),
		restore: (profile, name) =>
			locked(profile, 'restore', async (plan, onEvent) => {
				const {restoreSnapshot} = await import('../engine/snapshot-restore.js');
				const restored = await restoreSnapshot(profile, plan, name, {onEvent});
				const ok = restored.report?.ok ?? true;
				if (!ok) throw new Error(`restored ${name}, but checks failed: ${restored.report?.results.filter(r => r.status !== 'ok').map(r => r.check).join(', ')}`);
				return `restored ${name} in ${(restored.timings.totalMs / 1000).toFixed(1)} s; all ${restored.report?.results.length ?? 0} checks green${restoreLeftOut(restored.left)}`;
			}),
		remove: (profile, name) =>
			locked(profile, 'delete', async (plan, onEvent) => {
				const {deleteSnapshot} = await import('../engine/snapshot.js');
				await deleteSnapshot(profile, plan, name, {onEvent});
				return `deleted ${name}`;
			}),
	};
}
