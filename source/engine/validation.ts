import fs from 'node:fs/promises';
import {setTimeout as sleep} from 'node:timers/promises';
import type {Profile, CheckSpec} from '../model/profile-schema.js';
import type {NodePlan, Plan} from '../model/plan.js';
import type {RunEventListener} from '../model/events.js';
import {checkName, clusterCheckAttempt, isClusterCheck, nodeCheckAttempt, runsOn, type CheckContext, type NodeAccess} from '../services/checks/registry.js';
import type {NodeSsh} from '../services/ssh.js';
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

export type Report = {profile: string; ok: boolean; startedAt: string; finishedAt: string; results: CheckResult[]};

const POLL_START_MS = 500;
const POLL_MAX_MS = 3000;

async function poll(what: string, attempt: () => Promise<string | CheckAnswer>, timeoutMs: number, onWait: (lastError: string) => void, signal?: AbortSignal): Promise<{ok: boolean; detail: string; facts?: CheckFacts}> {
	const started = Date.now();
	let delay = POLL_START_MS;
	let lastError = '';
	for (;;) {
		signal?.throwIfAborted();
		try {
			return {ok: true, ...answerOf(await attempt())};
		} catch (error) {
			if (signal?.aborted) throw error;
			const message = (error as Error).message;
			if (message !== lastError) onWait(message);
			lastError = message;
		}
		if (Date.now() - started + delay > timeoutMs) return {ok: false, detail: `${what}: ${lastError} (after ${Math.round((Date.now() - started) / 1000)} s)`};
		await sleep(delay, undefined, {signal});
		delay = Math.min(delay * 2, POLL_MAX_MS);
	}
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

export async function validateCluster(
	profile: Profile,
	plan: Plan,
	// checks: the ones to run (validate --only), default all of the profile's.
	// notRun: nodes left out of this validation, with why (they failed before it); their checks are reported as not run.
	// writeReport: false for watch mode's rounds, which leave the last validation's report alone.
	options: {connections: Map<string, NodeSsh>; onEvent: RunEventListener; checks?: CheckSpec[]; signal?: AbortSignal; target?: CheckContext['target']; timeoutCapMs?: number; notRun?: Record<string, string>; writeReport?: boolean},
): Promise<Report> {
	const startedAt = new Date().toISOString();
	const results: CheckResult[] = [];
	const emit = options.onEvent;
	const nodes: NodeAccess[] = plan.nodes.flatMap(node => {
		const ssh = options.connections.get(node.name);
		return ssh && !ssh.closed && options.notRun?.[node.name] === undefined ? [{node, ssh}] : [];
	});
	// What is up is validated; a node that is not is reported, check by check, as not run and why.
	const left = plan.nodes.filter(n => !nodes.some(a => a.node.name === n.name));
	const skipped = left.filter(n => options.notRun?.[n.name] !== undefined);
	const unreachable = left.filter(n => !skipped.includes(n));
	const notRun = (spec: CheckSpec, name: string, node: NodePlan | undefined, reason: string) => {
		results.push({check: name, type: spec.type, node: node?.name, status: 'not-run', detail: `not run: ${reason}`, reason, durationMs: 0});
		emit({type: 'check', node: node?.name, check: name, status: 'not-run', detail: reason, at: Date.now()});
	};

	for (const spec of options.checks ?? profile.checks) {
		const name = checkName(spec);
		const context: CheckContext = {plan, nodes, timeoutMs: Math.min(spec.timeoutSec * 1000, options.timeoutCapMs ?? Infinity), signal: options.signal, target: options.target};
		if (isClusterCheck(spec) && nodes.length === 0) {
			notRun(spec, name, undefined, `no node could be validated (${left.map(n => n.name).join(', ')} did not finish)`);
			continue;
		}
		if (isClusterCheck(spec)) {
			const started = Date.now();
			emit({type: 'check', check: name, status: 'waiting', detail: `waiting for ${name}`, at: Date.now()});
			const outcome = await poll(`waiting for ${name}`, () => clusterCheckAttempt(spec, context), context.timeoutMs, error => emit({type: 'check', check: name, status: 'waiting', detail: `waiting for ${name}: ${error}`, at: Date.now()}), options.signal);
			// A cluster check's explanation comes from the first node its reason names.
			const named = outcome.ok ? undefined : nodes.find(access => new RegExp(`\\b${access.node.name}\\b`).test(outcome.detail));
			const logLine = named ? await explainingLine(spec, named.node, named.ssh).then(line => line && `${named.node.name} ${line}`) : undefined;
			results.push({check: name, type: spec.type, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, reason: outcome.ok ? undefined : outcome.detail, logLine, facts: outcome.facts, durationMs: Date.now() - started});
			emit({type: 'check', check: name, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, logLine, facts: outcome.facts, at: Date.now()});
			continue;
		}
		for (const node of skipped.filter(n => runsOn(spec, n))) notRun(spec, name, node, options.notRun![node.name]!);
		// Expected to be up but without a connection (a caller that did not say why): a failure.
		for (const node of unreachable.filter(n => runsOn(spec, n))) {
			results.push({check: name, type: spec.type, node: node.name, status: 'failed', detail: 'no SSH connection', reason: `${node.name} is not reachable over SSH`, logLine: await explainingLine(spec, node, undefined), durationMs: 0});
			emit({type: 'check', node: node.name, check: name, status: 'failed', detail: 'no SSH connection', logLine: results.at(-1)?.logLine, at: Date.now()});
		}
		await Promise.all(
			nodes.filter(access => runsOn(spec, access.node)).map(async access => {
				const started = Date.now();
				emit({type: 'check', node: access.node.name, check: name, status: 'waiting', detail: `waiting for ${name}`, at: Date.now()});
				const outcome = await poll(
					`waiting for ${name} on ${access.node.name}`,
					() => nodeCheckAttempt(spec, access, context),
					context.timeoutMs,
					error => emit({type: 'check', node: access.node.name, check: name, status: 'waiting', detail: `waiting for ${name}: ${error}`, at: Date.now()}),
					options.signal,
				);
				const logLine = outcome.ok ? undefined : await explainingLine(spec, access.node, access.ssh);
				results.push({
					check: name,
					type: spec.type,
					node: access.node.name,
					status: outcome.ok ? 'ok' : 'failed',
					detail: outcome.detail,
					reason: outcome.ok ? undefined : outcome.detail,
					logLine,
					facts: outcome.facts,
					durationMs: Date.now() - started,
				});
				emit({type: 'check', node: access.node.name, check: name, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, logLine, facts: outcome.facts, at: Date.now()});
			}),
		);
	}
	const report: Report = {profile: profile.name, ok: results.every(r => r.status === 'ok'), startedAt, finishedAt: new Date().toISOString(), results};
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
	const lines = [`plasma-tui validation of ${report.profile}: ${verdict} (${report.finishedAt})`, ''];
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
