import type {Profile} from '../model/profile-schema.js';
import {buildPlan, type Plan, type PlanContext} from '../model/plan.js';
import {ConsoleInput} from '../services/console-input.js';
import {tailFile} from '../services/console-tail.js';
import type {RunOutcome, RunServices} from '../hooks/run-services.js';

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
		async startRun(profile: Profile, {onEvent, signal}): Promise<RunOutcome> {
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
			const running = withWorkLock(plan, 'tui run', () => runUp(profile, {plan, onEvent, signal}));
			active = running.catch(() => undefined);
			const result = await running;
			return {
				exitCode: result.exitCode,
				failedStage: result.failedStage,
				interrupted: result.interrupted,
				report: result.reportOk !== undefined ? result.plan?.report : undefined,
			};
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
			const verdict = await nodePowerVerdict(plan, node, action, state?.lifecycle?.stoppedNodes);
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
		settled: () => active,
		close: () => input?.close(),
		ran: () => started,
	};
}
