import {z} from 'zod';
import type {Profile} from '../model/profile-schema.js';
import type {Plan} from '../model/plan.js';
import type {NodePhase, RunEventListener} from '../model/events.js';
import {formatTiming} from '../model/check-start.js';
import {planDigest, rerunVerdict, type RerunVerdict} from '../model/rerun.js';
import {readJsonFile} from '../services/json-file.js';
import {identityOf, readState, StateStore} from '../services/state.js';
import {isOurProcess} from '../services/processes.js';
import {checkName, isClusterCheck} from '../services/checks/registry.js';
import {writeReport, type CheckResult, type Report} from './validation.js';
import {validateRunning} from './validate-running.js';
import {Stage, type UpResult} from './up.js';

// `up` on a cluster that is already up and validated: nothing is probed, booted
// or installed; the node-local checks run again (all of them with --full) on
// fresh sessions, and the report keeps the last results of the others.

const lastReportSchema = z.looseObject({
	ok: z.boolean(),
	planDigest: z.string().optional(),
	finishedAt: z.string(),
	results: z.array(z.looseObject({check: z.string(), node: z.string().optional(), status: z.string()})),
});

// Whether this up may skip to validation, from the state file, the processes and the last report.
export async function rerunCheck(plan: Plan): Promise<RerunVerdict & {lastReport?: Report}> {
	const state = await readState(plan.stateFile).catch(() => undefined);
	const processes = await Promise.all((state?.processes ?? []).map(async entry => ({...entry, alive: await isOurProcess(entry.pid, identityOf(entry))})));
	const read = await readJsonFile(plan.report.json, lastReportSchema);
	const report = read.status === 'ok' ? read.value : undefined;
	const verdict = rerunVerdict({nodes: plan.nodes, digest: planDigest(plan), state, processes, report});
	return {...verdict, lastReport: report as Report | undefined};
}

export async function rerunUp(profile: Profile, plan: Plan, options: {full: boolean; why: string; lastReport?: Report; onEvent: RunEventListener; signal?: AbortSignal}): Promise<UpResult> {
	const emit = options.onEvent;
	const skipped = `the cluster is already up and validated (${options.why})`;
	for (const name of plan.stages.filter(s => s !== 'validate')) Stage.skipped(emit, name, skipped);
	const checks = options.full ? profile.checks : profile.checks.filter(spec => !isClusterCheck(spec));
	const left = profile.checks.length - checks.length;
	const what = options.full ? `all ${checks.length} checks (--full)` : `the ${checks.length} node-local checks only; ${left} cluster checks keep their last result (--full runs them too)`;
	emit({type: 'log', level: 'info', message: `up again: preflight, boot and install skipped: ${skipped}; validating ${what}`, at: Date.now()});
	const stage = new Stage(emit, 'validate');
	const state = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
	const validated = await validateRunning(profile, plan, {checks, state, onEvent: emit, signal: options.signal, planDigest: planDigest(plan), writeReport: false});
	const phases: Record<string, NodePhase> = validated.phases;
	const {report} = validated;
	if (!report) {
		stage.failed('no node answers on SSH any more');
		return {exitCode: 1, failedStage: 'validate', plan, phases};
	}
	const merged = mergedReport(report, options.full ? undefined : options.lastReport, profile.checks.map(checkName));
	await writeReport(plan, merged);
	const took = formatTiming(report);
	const failed = report.results.filter(r => r.status !== 'ok').length;
	if (report.ok) stage.done(`${report.results.length} checks passed${took ? ` in ${took}` : ''}; report ${plan.report.text}`);
	else stage.failed(`${failed} of ${report.results.length} checks failed; report ${plan.report.text}`);
	return {exitCode: report.ok ? 0 : 1, failedStage: report.ok ? undefined : 'validate', plan, phases, reportOk: report.ok};
}

// The checks run now replace their last results; the others keep theirs (marked in their detail).
function mergedReport(now: Report, last: Report | undefined, order: string[]): Report {
	if (!last) return now;
	const ran = new Set(now.results.map(r => r.check));
	const kept: CheckResult[] = last.results.filter(r => !ran.has(r.check)).map(r => ({...r, detail: r.detail.startsWith('(last up) ') ? r.detail : `(last up) ${r.detail}`}));
	const rank = (r: CheckResult) => order.indexOf(r.check);
	const results = [...kept, ...now.results].sort((a, b) => rank(a) - rank(b));
	return {...now, ok: results.every(r => r.status === 'ok'), results};
}
