import fs from 'node:fs/promises';
import {setTimeout as sleep} from 'node:timers/promises';
import type {Profile, CheckSpec} from '../model/profile-schema.js';
import type {NodePlan, Plan} from '../model/plan.js';
import type {RunEventListener} from '../model/events.js';
import {checkName, clusterCheckAttempt, isClusterCheck, nodeCheckAttempt, type CheckContext, type NodeAccess} from '../services/checks/registry.js';
import type {NodeSsh} from '../services/ssh.js';
import {writeFileAtomic} from '../services/atomic-file.js';
import {ensureWorkDirs} from '../services/owned-dir.js';
import {printableLine} from '../services/console-tail.js';
import {shellQuote} from '../services/shell-quote.js';

// Runs the profile's checks: each is polled until it passes or its timeout
// runs out, saying what it waits for; the results become the report.

export type CheckResult = {
	check: string;
	// 'stage': a node that failed before validation (boot or install), reported instead of checked.
	type: CheckSpec['type'] | 'stage';
	node?: string;
	status: 'ok' | 'failed';
	detail: string;
	reason?: string;
	// The log line that explains a failure: the node's console, last words.
	logLine?: string;
	durationMs: number;
};

export type Report = {profile: string; ok: boolean; startedAt: string; finishedAt: string; results: CheckResult[]};

const POLL_START_MS = 500;
const POLL_MAX_MS = 3000;

async function poll(what: string, attempt: () => Promise<string>, timeoutMs: number, onWait: (lastError: string) => void, signal?: AbortSignal): Promise<{ok: boolean; detail: string}> {
	const started = Date.now();
	let delay = POLL_START_MS;
	let lastError = '';
	for (;;) {
		signal?.throwIfAborted();
		try {
			return {ok: true, detail: await attempt()};
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
async function explainingLine(spec: CheckSpec, node: NodePlan, ssh: NodeSsh | undefined): Promise<string | undefined> {
	if (spec.explainLog && ssh && !ssh.closed) {
		const tail = await ssh.exec(`tail -n 5 ${shellQuote(spec.explainLog)}`, {timeoutMs: 10_000}).catch(() => undefined);
		const line = tail?.code === 0 ? lastLine(tail.stdout) : undefined;
		if (line) return `${spec.explainLog}: ${line}`;
	}
	const line = await lastConsoleLine(node);
	return line ? `console: ${line}` : undefined;
}

export async function validateCluster(
	profile: Profile,
	plan: Plan,
	// checks: the ones to run (validate --only), default all of the profile's.
	options: {connections: Map<string, NodeSsh>; onEvent: RunEventListener; checks?: CheckSpec[]; signal?: AbortSignal; target?: CheckContext['target']; timeoutCapMs?: number},
): Promise<Report> {
	const startedAt = new Date().toISOString();
	const results: CheckResult[] = [];
	const emit = options.onEvent;
	const nodes: NodeAccess[] = plan.nodes.flatMap(node => {
		const ssh = options.connections.get(node.name);
		return ssh && !ssh.closed ? [{node, ssh}] : [];
	});
	const unreachable = plan.nodes.filter(n => !nodes.some(a => a.node.name === n.name));

	for (const spec of options.checks ?? profile.checks) {
		const name = checkName(spec);
		const context: CheckContext = {plan, nodes, timeoutMs: Math.min(spec.timeoutSec * 1000, options.timeoutCapMs ?? Infinity), signal: options.signal, target: options.target};
		if (isClusterCheck(spec)) {
			const started = Date.now();
			emit({type: 'check', check: name, status: 'waiting', detail: `waiting for ${name}`, at: Date.now()});
			const outcome = await poll(`waiting for ${name}`, () => clusterCheckAttempt(spec, context), context.timeoutMs, error => emit({type: 'check', check: name, status: 'waiting', detail: `waiting for ${name}: ${error}`, at: Date.now()}), options.signal);
			// A cluster check's explanation comes from the first node its reason names.
			const named = outcome.ok ? undefined : nodes.find(access => new RegExp(`\\b${access.node.name}\\b`).test(outcome.detail));
			const logLine = named ? await explainingLine(spec, named.node, named.ssh).then(line => line && `${named.node.name} ${line}`) : undefined;
			results.push({check: name, type: spec.type, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, reason: outcome.ok ? undefined : outcome.detail, logLine, durationMs: Date.now() - started});
			emit({type: 'check', check: name, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, logLine, at: Date.now()});
			continue;
		}
		for (const node of unreachable) {
			results.push({check: name, type: spec.type, node: node.name, status: 'failed', detail: 'no SSH connection', reason: `${node.name} is not reachable over SSH`, logLine: await explainingLine(spec, node, undefined), durationMs: 0});
			emit({type: 'check', node: node.name, check: name, status: 'failed', detail: 'no SSH connection', logLine: results.at(-1)?.logLine, at: Date.now()});
		}
		await Promise.all(
			nodes.map(async access => {
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
					durationMs: Date.now() - started,
				});
				emit({type: 'check', node: access.node.name, check: name, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, logLine, at: Date.now()});
			}),
		);
	}
	const report: Report = {profile: profile.name, ok: results.every(r => r.status === 'ok'), startedAt, finishedAt: new Date().toISOString(), results};
	await writeReport(plan, report);
	return report;
}

export function formatReport(report: Report): string {
	const lines = [`plasma-tui validation of ${report.profile}: ${report.ok ? 'all checks passed' : 'FAILED'} (${report.finishedAt})`, ''];
	for (const result of report.results) {
		lines.push(`${result.status === 'ok' ? '[ok]    ' : '[FAILED]'} ${(result.node ?? 'cluster').padEnd(8)} ${result.check}: ${result.status === 'ok' ? result.detail : result.reason}`);
		if (result.logLine) lines.push(`           last log line: ${result.logLine}`);
	}
	return `${lines.join('\n')}\n`;
}

// A run whose nodes did not all finish boot and install: no checks, the report names the nodes and why.
export async function writeSkippedReport(profile: Profile, plan: Plan, reasons: Record<string, string>): Promise<Report> {
	const now = new Date().toISOString();
	const results: CheckResult[] = Object.entries(reasons).map(([node, reason]) => ({check: 'boot and install', type: 'stage', node, status: 'failed', detail: 'validation skipped', reason, durationMs: 0}));
	const report: Report = {profile: profile.name, ok: false, startedAt: now, finishedAt: now, results};
	await writeReport(plan, report);
	return report;
}

export async function writeReport(plan: Plan, report: Report): Promise<void> {
	await ensureWorkDirs(plan.workDir);
	await writeFileAtomic(plan.report.json, `${JSON.stringify(report, null, 2)}\n`, 0o644);
	await writeFileAtomic(plan.report.text, formatReport(report), 0o644);
}
