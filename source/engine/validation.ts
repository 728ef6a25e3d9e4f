import fs from 'node:fs/promises';
import {setTimeout as sleep} from 'node:timers/promises';
import type {Profile, CheckSpec} from '../model/profile-schema.js';
import type {NodePlan, Plan} from '../model/plan.js';
import type {RunEventListener} from '../model/events.js';
import {changesNode, checkName, clusterCheckAttempt, isClusterCheck, nodeCheckAttempt, runsOn, startsWhen, type CheckContext, type NodeAccess} from '../services/checks/registry.js';
import {formatTiming, mayStart, startWaitLine, type ArrivingNode} from '../model/check-start.js';
import type {NodeSsh} from '../services/ssh.js';
import {withDeadline} from '../services/wait.js';
import {writeFileAtomic} from '../services/atomic-file.js';
import {ensureWorkDirs} from '../services/owned-dir.js';
import {printableLine} from '../model/printable.js';
import {shellQuote} from '../services/shell-quote.js';
import {answerOf, formatFacts, type CheckAnswer, type CheckFacts} from '../model/check-facts.js';

// Runs the profile's checks: each is polled until it passes or its timeout
// runs out, saying what it waits for; the results become the report.

export type CheckResult = {
	check: string;
	type: CheckSpec['type'];
	node?: string;
	// 'not-run': the node failed before validation (boot, install) or does not answer; the reason says why.
	status: CheckResultStatus;
	detail: string;
	reason?: string;
	// The log line that explains a failure: the node's console, last words.
	logLine?: string;
	// What the check learned about the cluster (raft-quorum: leader, term, members).
	facts?: CheckFacts;
	durationMs: number;
};

export type CheckResultStatus = 'ok' | 'failed' | 'not-run';

export type Report = {
	profile: string;
	ok: boolean;
	startedAt: string;
	finishedAt: string;
	results: CheckResult[];
	// Wall time of the validation and the sum of its checks' times (they overlap).
	wallMs?: number;
	checkMs?: number;
	// The plan validated (services/plan-digest.ts): a rerun of up skips boot only for the same plan.
	planDigest?: string;
};

const POLL_START_MS = 500;
const POLL_MAX_MS = 3000;

async function poll(what: string, attempt: () => Promise<string | CheckAnswer>, timeoutMs: number, onWait: (lastError: string) => void, signal?: AbortSignal): Promise<{ok: boolean; detail: string; facts?: CheckFacts}> {
	const started = Date.now();
	let delay = POLL_START_MS;
	let lastError = '';
	for (;;) {
		signal?.throwIfAborted();
		// An attempt that hangs (a frozen node holds a channel open) ends at the check's deadline.
		const cut = new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`);
		try {
			const left = timeoutMs - (Date.now() - started);
			return {ok: true, ...answerOf(await withDeadline(attempt(), left, () => cut))};
		} catch (error) {
			if (signal?.aborted) throw error;
			const message = (error as Error).message;
			// Cut short by the deadline (it may have started just before it): an earlier attempt's answer
			// says more than "no answer".
			if (error === cut && lastError) break;
			if (message !== lastError) onWait(message);
			lastError = message;
		}
		if (Date.now() - started + delay > timeoutMs) break;
		await sleep(delay, undefined, {signal});
		delay = Math.min(delay * 2, POLL_MAX_MS);
	}
	return {ok: false, detail: `${what}: ${lastError} (after ${Math.round((Date.now() - started) / 1000)} s)`};
}

async function lastConsoleLine(node: NodePlan): Promise<string | undefined> {
	const text = await fs.readFile(node.runtime.consoleLog, 'utf8').catch(() => '');
	return lastLine(text);
}

function lastLine(text: string): string | undefined {
	return text
		.split('\n')
		.map(line => printableLine(line).trim())
		.filter(Boolean)
		.at(-1);
}

// The line that explains a failure: the last words of the check's log on the node, else of its console.
// When the log cannot be read, the console line comes after saying why (a missing file is not silence).
async function explainingLine(spec: CheckSpec, node: NodePlan, ssh: NodeSsh | undefined): Promise<string | undefined> {
	let why: string | undefined;
	if (spec.explainLog && ssh && !ssh.closed) {
		const file = shellQuote(spec.explainLog);
		const failed = (error: unknown) => ({code: null, stdout: '', stderr: (error as Error).message});
		const tail = await ssh.exec(`tail -n 5 ${file}`, {timeoutMs: 10_000}).catch(failed);
		const line = tail.code === 0 ? lastLine(tail.stdout) : undefined;
		if (line) return `${spec.explainLog}: ${line}`;
		// tail exits 1 for any failure: `[ -e ]` tells a missing file from an unreadable one.
		const exists = tail.code === 0 ? undefined : await ssh.exec(`[ -e ${file} ]`, {timeoutMs: 10_000}).catch(failed);
		if (tail.code === 0) why = `explainLog ${spec.explainLog} on ${node.name} is empty`;
		else if (exists?.code === 1) why = `explainLog ${spec.explainLog} does not exist on ${node.name}`;
		else why = `explainLog ${spec.explainLog} on ${node.name} could not be read: ${lastLine(tail.stderr) ?? `exit ${String(tail.code)}`}`;
	}
	const line = await lastConsoleLine(node);
	const consoleLine = line ? `console: ${line}` : undefined;
	if (!why) return consoleLine;
	return consoleLine ? `${why}; ${consoleLine}` : why;
}

// How a node comes into a validation: its session, or why it is left out
// (notRun: it failed before validation; unreachable: expected up, but no session).
export type Arrival = {ssh: NodeSsh} | {notRun: string} | {unreachable: true};

// Every node already there: the arrivals of a validation of a running cluster.
function arrivalsNow(plan: Plan, connections: Map<string, NodeSsh>, notRun: Record<string, string> | undefined): Map<string, Promise<Arrival>> {
	return new Map(
		plan.nodes.map(node => {
			const ssh = connections.get(node.name);
			const reason = notRun?.[node.name];
			const arrival: Arrival = reason !== undefined ? {notRun: reason} : ssh && !ssh.closed ? {ssh} : {unreachable: true};
			return [node.name, Promise.resolve(arrival)];
		}),
	);
}

function nextWake(): {promise: Promise<void>; resolve: () => void} {
	let resolve = () => undefined as void;
	const promise = new Promise<void>(done => (resolve = done));
	return {promise, resolve};
}

// The checks in runs that do not overlap: a check that changes a node (restarts a
// service) runs alone, after every check before it and before any after it.
function segmentsOf(specs: readonly CheckSpec[]): Array<Array<{spec: CheckSpec; index: number}>> {
	const segments: Array<Array<{spec: CheckSpec; index: number}>> = [[]];
	specs.forEach((spec, index) => {
		if (changesNode(spec)) segments.push([{spec, index}], []);
		else segments.at(-1)!.push({spec, index});
	});
	return segments.filter(segment => segment.length > 0);
}

export async function validateCluster(
	profile: Profile,
	plan: Plan,
	// checks: the ones to run (validate --only), default all of the profile's.
	// connections: the sessions of a running cluster; or arrivals: each node's session as it comes
	// (up's validate stage starts a node's checks as soon as that node is installed).
	// notRun: nodes left out of this validation, with why (they failed before it); their checks are reported as not run.
	// writeReport: false for watch mode's rounds, which leave the last validation's report alone.
	options: {connections?: Map<string, NodeSsh>; arrivals?: Map<string, Promise<Arrival>>; onEvent: RunEventListener; checks?: CheckSpec[]; signal?: AbortSignal; target?: CheckContext['target']; timeoutCapMs?: number; notRun?: Record<string, string>; writeReport?: boolean; planDigest?: string},
): Promise<Report> {
	const startedAt = new Date().toISOString();
	const started = Date.now();
	const results: Array<{order: [number, number]; result: CheckResult}> = [];
	const emit = options.onEvent;
	const signal = options.signal;
	const arrivals = options.arrivals ?? arrivalsNow(plan, options.connections ?? new Map(), options.notRun);
	const nodeIndex = (node: NodePlan | undefined) => (node ? plan.nodes.indexOf(node) : -1);
	const record = (index: number, node: NodePlan | undefined, result: CheckResult) => results.push({order: [index, nodeIndex(node)], result});

	// Where every node is; each arrival wakes the checks that wait for one.
	const arrived = new Map<string, Arrival>();
	let wake = nextWake();
	const arrivalOf = (node: NodePlan): Promise<Arrival> =>
		(arrivals.get(node.name) ?? Promise.resolve<Arrival>({unreachable: true}))
			.then(arrival => ('ssh' in arrival && arrival.ssh.closed ? {unreachable: true as const} : arrival))
			.catch((error: unknown) => ({notRun: `${node.name}: ${(error as Error).message}`}))
			.then(arrival => {
				arrived.set(node.name, arrival);
				wake.resolve();
				wake = nextWake();
				return arrival;
			});
	const nodeArrivals = new Map(plan.nodes.map(node => [node.name, arrivalOf(node)]));
	const aborted = new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), {once: true}));
	aborted.catch(() => undefined);
	const ready = (): NodeAccess[] => plan.nodes.flatMap(node => {
		const arrival = arrived.get(node.name);
		return arrival && 'ssh' in arrival ? [{node, ssh: arrival.ssh}] : [];
	});
	const arriving = (): ArrivingNode[] => plan.nodes.map(node => {
		const arrival = arrived.get(node.name);
		return {name: node.name, role: node.role, status: arrival === undefined ? 'pending' : 'ssh' in arrival ? 'ready' : 'out'};
	});
	// Waits until the check may start (model/check-start.ts), saying for which nodes.
	const startGate = async (spec: CheckSpec, name: string, self?: NodePlan) => {
		let said = '';
		for (;;) {
			signal?.throwIfAborted();
			const verdict = mayStart(startsWhen(spec), arriving(), self?.name);
			if (verdict.start) return;
			const line = startWaitLine(name, verdict.waitingFor);
			if (line !== said) emit({type: 'check', node: self?.name, check: name, status: 'waiting', detail: line, at: Date.now()});
			said = line;
			await Promise.race([wake.promise, aborted]);
		}
	};
	const contextOf = (spec: CheckSpec): CheckContext => ({plan, nodes: ready(), pending: plan.nodes.filter(n => !arrived.has(n.name)).map(n => n.name), timeoutMs: Math.min(spec.timeoutSec * 1000, options.timeoutCapMs ?? Infinity), signal, target: options.target});

	const notRun = (index: number, spec: CheckSpec, name: string, node: NodePlan | undefined, reason: string) => {
		record(index, node, {check: name, type: spec.type, node: node?.name, status: 'not-run', detail: `not run: ${reason}`, reason, durationMs: 0});
		emit({type: 'check', node: node?.name, check: name, status: 'not-run', detail: reason, at: Date.now()});
	};

	// Each cluster check's end, for the node checks the profile lists after it.
	const specs = options.checks ?? profile.checks;
	const clusterEnds = new Map(specs.flatMap((spec, index) => (isClusterCheck(spec) ? [[index, {name: checkName(spec), finished: false, ...nextWake()}]] : [])));
	const clusterBefore = (index: number) => [...clusterEnds].filter(([at]) => at < index).at(-1)?.[1];
	const clusterCheck = async (item: {spec: CheckSpec; index: number}) => {
		try {
			await runClusterCheck(item);
		} finally {
			const end = clusterEnds.get(item.index)!;
			end.finished = true;
			end.resolve();
		}
	};
	const runClusterCheck = async ({spec, index}: {spec: CheckSpec; index: number}) => {
		const name = checkName(spec);
		await startGate(spec, name);
		if (ready().length === 0) {
			const left = plan.nodes.map(n => n.name);
			return notRun(index, spec, name, undefined, `no node could be validated (${left.join(', ')} did not finish)`);
		}
		const checkStarted = Date.now();
		emit({type: 'check', check: name, status: 'waiting', detail: `waiting for ${name}`, at: Date.now()});
		const timeoutMs = contextOf(spec).timeoutMs;
		// Each attempt sees the nodes there by then: a late node joins the next attempt.
		const outcome = await poll(`waiting for ${name}`, () => clusterCheckAttempt(spec, contextOf(spec)), timeoutMs, error => emit({type: 'check', check: name, status: 'waiting', detail: `waiting for ${name}: ${error}`, at: Date.now()}), signal);
		// A cluster check's explanation comes from the first node its reason names.
		const named = outcome.ok ? undefined : ready().find(access => new RegExp(`\\b${access.node.name}\\b`).test(outcome.detail));
		const logLine = named ? await explainingLine(spec, named.node, named.ssh).then(line => line && `${named.node.name} ${line}`) : undefined;
		record(index, undefined, {check: name, type: spec.type, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, reason: outcome.ok ? undefined : outcome.detail, logLine, facts: outcome.facts, durationMs: Date.now() - checkStarted});
		emit({type: 'check', check: name, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, logLine, facts: outcome.facts, at: Date.now()});
	};

	const nodeCheck = async ({spec, index}: {spec: CheckSpec; index: number}, access: NodeAccess) => {
		const name = checkName(spec);
		// The profile's order still counts across kinds: a node check written after a cluster check
		// (etcd health after raft-quorum) starts once that one has finished, as when checks ran in order.
		const before = clusterBefore(index);
		if (before && !before.finished) {
			emit({type: 'check', node: access.node.name, check: name, status: 'waiting', detail: `waiting for ${name}: starts after ${before.name}`, at: Date.now()});
			await Promise.race([before.promise, aborted]);
		}
		await startGate(spec, name, access.node);
		const checkStarted = Date.now();
		emit({type: 'check', node: access.node.name, check: name, status: 'waiting', detail: `waiting for ${name}`, at: Date.now()});
		const outcome = await poll(
			`waiting for ${name} on ${access.node.name}`,
			() => nodeCheckAttempt(spec, access, contextOf(spec)),
			contextOf(spec).timeoutMs,
			error => emit({type: 'check', node: access.node.name, check: name, status: 'waiting', detail: `waiting for ${name}: ${error}`, at: Date.now()}),
			signal,
		);
		const logLine = outcome.ok ? undefined : await explainingLine(spec, access.node, access.ssh);
		record(index, access.node, {check: name, type: spec.type, node: access.node.name, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, reason: outcome.ok ? undefined : outcome.detail, logLine, facts: outcome.facts, durationMs: Date.now() - checkStarted});
		emit({type: 'check', node: access.node.name, check: name, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, logLine, facts: outcome.facts, at: Date.now()});
	};

	// One node's checks of a segment, at once.
	const nodeChain = async (node: NodePlan, segment: Array<{spec: CheckSpec; index: number}>) => {
		const mine = segment.filter(({spec}) => !isClusterCheck(spec) && runsOn(spec, node));
		if (mine.length === 0) return;
		const arrival = await Promise.race([nodeArrivals.get(node.name)!, aborted]);
		if ('notRun' in arrival) return void mine.forEach(({spec, index}) => notRun(index, spec, checkName(spec), node, arrival.notRun));
		if ('unreachable' in arrival) {
			// Expected to be up but without a connection (a caller that did not say why): a failure.
			const logLine = await explainingLine(mine[0]!.spec, node, undefined);
			for (const {spec, index} of mine) {
				record(index, node, {check: checkName(spec), type: spec.type, node: node.name, status: 'failed', detail: 'no SSH connection', reason: `${node.name} is not reachable over SSH`, logLine, durationMs: 0});
				emit({type: 'check', node: node.name, check: checkName(spec), status: 'failed', detail: 'no SSH connection', logLine, at: Date.now()});
			}
			return;
		}
		// Each waits for its own start: one exec channel each on the node's one session (NodeSsh caps them).
		await Promise.all(mine.map(item => nodeCheck(item, {node, ssh: arrival.ssh})));
	};
	// A segment's cluster checks change nothing (segmentsOf): each starts when its own nodes are in
	// (crud with a quorum, raft-quorum with every member), not behind the one written before it.
	const clusterChecks = async (segment: Array<{spec: CheckSpec; index: number}>) => {
		await Promise.all(segment.filter(({spec}) => isClusterCheck(spec)).map(item => clusterCheck(item)));
	};

	for (const segment of segmentsOf(specs)) {
		await Promise.all([clusterChecks(segment), ...plan.nodes.map(node => nodeChain(node, segment))]);
	}
	// Wall time next to the sum of the checks' own times: how much the checks overlapped.
	const ordered = results.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]).map(r => r.result);
	const timing = {wallMs: Date.now() - started, checkMs: ordered.reduce((sum, r) => sum + r.durationMs, 0)};
	const report: Report = {profile: profile.name, ok: ordered.every(r => r.status === 'ok'), startedAt, finishedAt: new Date().toISOString(), results: ordered, ...timing, planDigest: options.planDigest};
	if (options.writeReport !== false) await writeReport(plan, report);
	return report;
}

// A check's detail and reason carry remote stderr and HTTP bodies: the report (text and JSON) gets them cleaned.
function printableResult(result: CheckResult): CheckResult {
	const clean = (text: string | undefined) => (text === undefined ? undefined : printableLine(text));
	return {...result, detail: printableLine(result.detail), reason: clean(result.reason), logLine: clean(result.logLine)};
}

const MARKS: Record<CheckResultStatus, string> = {ok: '[ok]    ', failed: '[FAILED]', 'not-run': '[not run]'};

export function formatReport(report: Report): string {
	const count = (status: CheckResultStatus) => report.results.filter(r => r.status === status).length;
	const notRunNodes = [...new Set(report.results.filter(r => r.status === 'not-run').map(r => r.node ?? 'cluster'))];
	const verdict = report.ok ? 'all checks passed' : `FAILED (${count('failed')} failed, ${count('not-run')} not run${notRunNodes.length > 0 ? ` on ${notRunNodes.join(', ')}` : ''}, ${count('ok')} ok)`;
	const width = Math.max(8, ...report.results.map(r => (r.node ?? 'cluster').length));
	const timing = formatTiming(report);
	const lines = [`plasma-tui validation of ${report.profile}: ${verdict} (${report.finishedAt})`, ...(timing ? [`took ${timing}`] : []), ''];
	for (const result of report.results.map(printableResult)) {
		lines.push(`${MARKS[result.status]} ${(result.node ?? 'cluster').padEnd(width)} ${result.check}: ${result.status === 'ok' ? result.detail : result.reason}${result.facts ? ` [${formatFacts(result.facts)}]` : ''}`);
		if (result.logLine) lines.push(`           last log line: ${result.logLine}`);
	}
	return `${lines.join('\n')}\n`;
}

export async function writeReport(plan: Plan, report: Report): Promise<void> {
	await ensureWorkDirs(plan.workDir);
	await writeFileAtomic(plan.report.json, `${JSON.stringify({...report, results: report.results.map(printableResult)}, null, 2)}\n`, 0o644);
	await writeFileAtomic(plan.report.text, formatReport(report), 0o644);
}
