import fs from 'node:fs/promises';
import type {Profile, CheckSpec} from '../model/profile-schema.js';
import type {NodePlan, Plan} from '../model/plan.js';
import type {RunEventListener} from './events.js';
import {CLUSTER_CHECKS, checkName, clusterCheckAttempt, nodeCheckAttempt, type CheckContext, type NodeAccess} from '../services/checks.js';
import type {NodeSsh} from '../services/ssh.js';
import {writeFileAtomic} from '../services/atomic-file.js';

// Runs the profile's checks: each is polled until it passes or its timeout
// runs out, saying what it waits for; the results become the report.

export type CheckResult = {
	check: string;
	type: CheckSpec['type'];
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
		await new Promise(resolve => setTimeout(resolve, delay));
		delay = Math.min(delay * 2, POLL_MAX_MS);
	}
}

async function lastConsoleLine(node: NodePlan): Promise<string | undefined> {
	const text = await fs.readFile(node.runtime.consoleLog, 'utf8').catch(() => '');
	return text
		.split('\n')
		.map(line => line.replace(/\u001B\[[0-9;?]*[a-zA-Z]/g, '').trim())
		.filter(Boolean)
		.at(-1);
}

export async function validateCluster(
	profile: Profile,
	plan: Plan,
	options: {connections: Map<string, NodeSsh>; onEvent: RunEventListener; signal?: AbortSignal; target?: CheckContext['target']},
): Promise<Report> {
	const startedAt = new Date().toISOString();
	const results: CheckResult[] = [];
	const emit = options.onEvent;
	const nodes: NodeAccess[] = plan.nodes.flatMap(node => {
		const ssh = options.connections.get(node.name);
		return ssh && !ssh.closed ? [{node, ssh}] : [];
	});
	const unreachable = plan.nodes.filter(n => !nodes.some(a => a.node.name === n.name));

	for (const spec of profile.checks) {
		const name = checkName(spec);
		const context: CheckContext = {plan, nodes, timeoutMs: spec.timeoutSec * 1000, signal: options.signal, target: options.target};
		if (CLUSTER_CHECKS.has(spec.type)) {
			const started = Date.now();
			emit({type: 'check', check: name, status: 'waiting', detail: `waiting for ${name}`, at: Date.now()});
			const outcome = await poll(`waiting for ${name}`, () => clusterCheckAttempt(spec, context), context.timeoutMs, error => emit({type: 'check', check: name, status: 'waiting', detail: `waiting for ${name}: ${error}`, at: Date.now()}), options.signal);
			results.push({check: name, type: spec.type, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, reason: outcome.ok ? undefined : outcome.detail, durationMs: Date.now() - started});
			emit({type: 'check', check: name, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, at: Date.now()});
			continue;
		}
		for (const node of unreachable) {
			results.push({check: name, type: spec.type, node: node.name, status: 'failed', detail: 'no SSH connection', reason: `${node.name} is not reachable over SSH`, logLine: await lastConsoleLine(node), durationMs: 0});
			emit({type: 'check', node: node.name, check: name, status: 'failed', detail: 'no SSH connection', at: Date.now()});
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
				results.push({
					check: name,
					type: spec.type,
					node: access.node.name,
					status: outcome.ok ? 'ok' : 'failed',
					detail: outcome.detail,
					reason: outcome.ok ? undefined : outcome.detail,
					logLine: outcome.ok ? undefined : await lastConsoleLine(access.node),
					durationMs: Date.now() - started,
				});
				emit({type: 'check', node: access.node.name, check: name, status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, at: Date.now()});
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
		if (result.logLine) lines.push(`           last console line: ${result.logLine}`);
	}
	return `${lines.join('\n')}\n`;
}

export async function writeReport(plan: Plan, report: Report): Promise<void> {
	await fs.mkdir(plan.workDir, {recursive: true});
	await writeFileAtomic(plan.report.json, `${JSON.stringify(report, null, 2)}\n`, 0o644);
	await writeFileAtomic(plan.report.text, formatReport(report), 0o644);
}
