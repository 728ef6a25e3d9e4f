import {setTimeout as sleep} from 'node:timers/promises';
import type {Profile} from '../model/profile-schema.js';
import {etcdVariablesFor, nodeVars, type NodePlan, type Plan} from '../model/plan.js';
import {commandVariables, renderCommand} from '../model/install-plan.js';
import {membersDownBy, parseFault} from '../model/fault.js';
import {problemOf, formatProblem} from '../model/field-error.js';
import {bindNames, stepKind, type Scenario, type ScenarioStep} from '../model/scenario.js';
import type {TimelineEntry} from '../model/timeline.js';
import {formatRehearsal, rehearsalFiles, type RehearsalReport, type StepResult} from '../model/rehearsal-report.js';
import {checkName} from '../services/checks/registry.js';
import {NodeSsh, waitForSsh} from '../services/ssh.js';
import type {StateStore} from '../services/state.js';
import {appendTimeline} from '../services/timeline.js';
import {writeFileAtomic} from '../services/atomic-file.js';
import {ensureWorkDirs} from '../services/owned-dir.js';
import {applyFault, controlPlaneNames, openState} from './faults.js';
import {bootNodeAgain} from './node-again.js';
import {sshTargetFor} from './up.js';
import {validateCluster} from './validation.js';

// Runs a scenario against a running cluster, step by step: the first step
// that does not hold ends it (the rest are reported as not run), then
// whatever fault is still active is healed and thawed. Every step and its
// outcome go to the timeline; the report reads like validation's.

export type RehearseOptions = {
	force?: boolean;
	onLine: (line: string) => void;
	signal?: AbortSignal;
};

// An SSH handshake with a TCG guest on a loaded 2-core host took over 5 s (load average 27): wait longer.
const CONNECT_TIMEOUT_MS = 30_000;

// One SSH session per node, opened when a step needs it and again after the node came back.
export class Sessions {
	#held = new Map<string, NodeSsh>();
	// signal: Ctrl-C; every SSH wait and command of the rehearsal ends with it.
	constructor(
		private readonly plan: Plan,
		readonly signal?: AbortSignal,
	) {}

	async of(node: NodePlan, timeoutMs = CONNECT_TIMEOUT_MS): Promise<NodeSsh> {
		const held = this.#held.get(node.name);
		if (held && !held.closed) return held;
		const ssh = await waitForSsh(sshTargetFor(this.plan, node), {timeoutMs, attemptTimeoutMs: Math.min(timeoutMs, 20_000), signal: this.signal});
		this.#held.set(node.name, ssh);
		return ssh;
	}

	// The node went away (killed, booted again): the next step connects afresh.
	drop(name: string): void {
		this.#held.get(name)?.close();
		this.#held.delete(name);
	}

	// Those that answer now; a node that does not is left out (its node checks fail: no SSH connection).
	async reachable(nodes: readonly NodePlan[]): Promise<Map<string, NodeSsh>> {
		const found = new Map<string, NodeSsh>();
		await Promise.all(nodes.map(node => this.of(node).then(ssh => void found.set(node.name, ssh), () => undefined)));
		return found;
	}

	close(): void {
		for (const ssh of this.#held.values()) ssh.close();
		this.#held.clear();
	}
}

export async function rehearse(profile: Profile, plan: Plan, scenario: Scenario, options: RehearseOptions): Promise<RehearsalReport> {
	const state = await openState(plan);
	const sessions = new Sessions(plan, options.signal);
	const bindings: Record<string, string> = {};
	const results: StepResult[] = [];
	const startedAt = new Date().toISOString();
	const timeline = (detail: string, data?: TimelineEntry['data']) => appendTimeline(plan.timelineFile, {at: new Date().toISOString(), kind: 'scenario', subject: scenario.name, detail, data});
	await timeline('started');
	try {
		let failed = false;
		for (const [index, step] of scenario.steps.entries()) {
			const what = describeStep(step, bindings);
			if (failed || options.signal?.aborted) {
				results.push({index, kind: stepKind(step), what, status: 'not-run', detail: options.signal?.aborted ? 'interrupted' : 'an earlier step did not hold', durationMs: 0});
				continue;
			}
			options.onLine(`step ${index + 1}: ${what}${step.note ? `  (${step.note})` : ''}`);
			const started = Date.now();
			let status: StepResult['status'] = 'ok';
			let detail: string;
			try {
				detail = await runStep(profile, plan, step, {state, sessions, bindings, options});
			} catch (error) {
				status = 'failed';
				detail = formatProblem(problemOf(error));
				failed = true;
			}
			const durationMs = Date.now() - started;
			results.push({index, kind: stepKind(step), what, status, detail, durationMs});
			options.onLine(`  ${status === 'ok' ? 'ok' : 'FAILED'} after ${(durationMs / 1000).toFixed(1)} s: ${detail}`);
			await timeline(`step ${index + 1} ${status}: ${what}: ${detail}`, {step: index + 1, status, durationMs});
		}
	} finally {
		if (scenario.cleanup) {
			for (const action of ['heal', 'thaw'] as const) {
				const outcome = await applyFault(plan, {action}, {state}).catch(error => ({done: [`${action} failed: ${problemOf(error).message}`]}));
				for (const line of outcome.done) options.onLine(`cleanup: ${line}`);
			}
		}
		sessions.close();
	}
	const report: RehearsalReport = {scenario: scenario.name, profile: profile.name, ok: results.every(r => r.status === 'ok'), startedAt, finishedAt: new Date().toISOString(), steps: results, leftActive: (state.current.faults ?? []).length};
	await timeline(report.ok ? 'every step held' : 'failed', {ok: report.ok});
	await writeRehearsal(plan, report);
	return report;
}

type StepContext = {state: StateStore; sessions: Sessions; bindings: Record<string, string>; options: RehearseOptions};

export function describeStep(step: ScenarioStep, bindings: Record<string, string>): string {
	const bound = (text: string) => bindNames(text, bindings);
	if ('find' in step) return `find ${Object.entries(step.find).map(([role, name]) => `${role} as {${name}}`).join(', ')}`;
	if ('fault' in step) return `fault ${bound(step.fault)}`;
	if ('wait' in step) return `wait ${step.wait} s`;
	if ('start' in step) return `start ${bound(step.start)}`;
	if ('run' in step) return `run on ${bound(step.on)}: ${bound(step.run)} (expect ${step.exit}${step.output ? ` /${step.output}/` : ''}${step.within ? ` within ${step.within} s` : ''})`;
	const e = step.expect;
	return `expect ${e.check} ${e.status}${e.node ? ` on ${bound(e.node)}` : ''}${e.detail ? ` /${e.detail}/` : ''}${e.leaderNot ? ` leader not ${bound(e.leaderNot)}` : ''} within ${e.within} s`;
}

function nodeNamed(plan: Plan, name: string): NodePlan {
	const node = plan.nodes.find(n => n.name === name);
	if (!node) throw new Error(`"${name}" is not a node of this plan`);
	return node;
}

async function runStep(profile: Profile, plan: Plan, step: ScenarioStep, context: StepContext): Promise<string> {
	const {state, sessions, bindings, options} = context;
	const bound = (text: string) => bindNames(text, bindings);
	if ('wait' in step) {
		await sleep(step.wait * 1000, undefined, {signal: options.signal});
		return 'waited';
	}
	if ('find' in step) {
		const {leader, followers} = await findLeader(plan, sessions, membersDownBy(state.current.faults ?? [], plan.nodes.map(n => n.name)));
		if (step.find.leader) bindings[step.find.leader] = leader;
		if (step.find.follower) {
			if (!followers[0]) throw new Error('no follower answers');
			bindings[step.find.follower] = followers[0];
		}
		return `leader ${leader}${step.find.follower ? `, follower ${bindings[step.find.follower]}` : ''}`;
	}
	if ('fault' in step) {
		const parsed = parseFault(bound(step.fault).split(/\s+/).filter(Boolean), plan.nodes.map(n => n.name));
		if (!parsed.ok) throw new Error(parsed.message);
		const outcome = await applyFault(plan, parsed.request, {state, force: options.force, onVerdict: verdict => options.onLine(`  quorum guard: ${verdict.message}`)});
		return outcome.done.join('; ') || 'nothing to undo';
	}
	if ('start' in step) {
		const name = bound(step.start);
		sessions.drop(name);
		const outcome = await bootNodeAgain(profile, plan, name, {state, rejoin: step.rejoin, onLine: line => options.onLine(`  ${line}`), signal: options.signal});
		return `${name} ${outcome}`;
	}
	if ('run' in step) return runCommand(plan, step, context);
	return expectCheck(profile, plan, step.expect, context);
}

async function runCommand(plan: Plan, step: Extract<ScenarioStep, {run: string}>, {sessions, bindings, options}: StepContext): Promise<string> {
	const node = nodeNamed(plan, bindNames(step.on, bindings));
	const command = renderCommand(bindNames(step.run, bindings), commandVariables(nodeVars(node, plan.cluster), node, etcdVariablesFor(plan, node)));
	const deadline = Date.now() + (step.within ?? 0) * 1000;
	const output = step.output === undefined ? undefined : new RegExp(step.output);
	let last = '';
	for (;;) {
		try {
			const ssh = await sessions.of(node);
			const result = await ssh.exec(command, {timeoutMs: 20_000, signal: options.signal});
			const text = `${result.stdout}${result.stderr}`.trim();
			const exitHeld = step.exit === 'ok' ? result.code === 0 : result.code !== 0;
			last = `exit ${result.code ?? result.signal}${text ? `: ${text.split('\n').at(-1)!.slice(0, 200)}` : ''}`;
			if (exitHeld && (!output || output.test(text))) return last;
		} catch (error) {
			options.signal?.throwIfAborted();
			last = (error as Error).message;
		}
		if (Date.now() >= deadline) throw new Error(`expected ${step.exit === 'ok' ? 'exit 0' : 'a failure'}${output ? ` and output matching /${step.output}/` : ''}; got ${last}`);
		await sleep(2000, undefined, {signal: options.signal});
	}
}

// A check of the profile, run until it holds or `within` passes. "ok": every
// result on a node that no fault took down is ok; "failed": some result failed.
async function expectCheck(profile: Profile, plan: Plan, expect: Extract<ScenarioStep, {expect: unknown}>['expect'], context: StepContext): Promise<string> {
	const {state, sessions, bindings} = context;
	const specs = profile.checks.filter(spec => spec.type === expect.check || checkName(spec) === expect.check);
	if (specs.length === 0) throw new Error(`the profile has no check "${expect.check}" (its checks: ${[...new Set(profile.checks.map(checkName))].join(', ')})`);
	const onNode = expect.node ? bindNames(expect.node, bindings) : undefined;
	const notLeader = expect.leaderNot ? bindNames(expect.leaderNot, bindings) : undefined;
	const detail = expect.detail === undefined ? undefined : new RegExp(expect.detail);
	const deadline = Date.now() + expect.within * 1000;
	let last = 'not tried';
	for (;;) {
		const remaining = deadline - Date.now();
		const down = new Set(membersDownBy(state.current.faults ?? [], plan.nodes.map(n => n.name)).filter(name => (state.current.faults ?? []).some(f => f.kind !== 'partition' && f.kind !== 'isolated' && 'node' in f && f.node === name)));
		const connections = await sessions.reachable(plan.nodes.filter(n => !down.has(n.name) || n.name === onNode));
		// An expected failure is looked at briefly, an expected success is polled up to the deadline.
		const capMs = Math.max(2000, expect.status === 'failed' ? Math.min(remaining, 10_000) : remaining);
		const report = await validateCluster(profile, plan, {connections, checks: specs, onEvent: () => undefined, timeoutCapMs: capMs, signal: context.options.signal, notRun: Object.fromEntries([...down].filter(n => n !== onNode).map(n => [n, 'down by a fault']))});
		const results = report.results.filter(r => (onNode ? r.node === onNode || r.node === undefined : true) && r.status !== 'not-run');
		last = results.map(r => `${r.node ?? 'cluster'} ${r.check}: ${r.status === 'ok' ? r.detail : r.reason}`).join('; ') || 'no result';
		let held = expect.status === 'ok' ? results.length > 0 && results.every(r => r.status === 'ok') : results.some(r => r.status === 'failed');
		if (held && detail) held = results.some(r => detail.test(r.detail));
		if (held && notLeader) {
			const leader = await findLeader(plan, sessions, [...down]).then(found => found.leader, () => undefined);
			held = leader !== undefined && leader !== notLeader;
			last = `${last}; leader ${leader ?? 'none agreed'}`;
		}
		if (held) return last;
		if (Date.now() >= deadline) throw new Error(`within ${expect.within} s: ${last}`);
		await sleep(1000, undefined, {signal: context.options.signal});
	}
}

// The Raft leader by node name: every control-plane member that answers says
// which member leads (maintenance/status) and the member list names it.
// Members a fault took down (killed, frozen) are not asked: waiting for their SSH would only cost time.
export async function findLeader(plan: Plan, sessions: Sessions, skip: readonly string[] = []): Promise<{leader: string; followers: string[]}> {
	const members = plan.nodes.filter(n => controlPlaneNames(plan).includes(n.name) && !skip.includes(n.name));
	const answers = await Promise.all(
		members.map(async node => {
			const ssh = await sessions.of(node).catch(() => undefined);
			if (!ssh) return undefined;
			const vars = commandVariables(nodeVars(node, plan.cluster), node, etcdVariablesFor(plan, node));
			const etcdctl = `etcdctl --endpoints https://127.0.0.1:2379 --cacert ${vars['ca']} --cert ${vars['cert']} --key ${vars['key']} --command-timeout 5s`;
			const result = await ssh.exec(`${etcdctl} endpoint status -w json && ${etcdctl} member list -w json`, {timeoutMs: 15_000, signal: sessions.signal}).catch(() => undefined);
			if (result?.code !== 0) return undefined;
			// Raw text, not JSON.parse: member ids are 64-bit and lose their low digits as numbers.
			const leaderId = /"leader":(\d+)/.exec(result.stdout)?.[1];
			const named = [...result.stdout.matchAll(/"ID":(\d+),"name":"([^"]+)"/g)].find(match => match[1] === leaderId);
			return named?.[2];
		}),
	);
	const votes = answers.filter((name): name is string => name !== undefined);
	const leader = votes.sort((a, b) => votes.filter(v => v === b).length - votes.filter(v => v === a).length)[0];
	if (!leader) throw new Error('no member names a leader (etcdctl endpoint status on every control-plane node)');
	return {leader, followers: members.map(n => n.name).filter(name => name !== leader && answers[members.findIndex(m => m.name === name)] === leader)};
}

async function writeRehearsal(plan: Plan, report: RehearsalReport): Promise<void> {
	const files = rehearsalFiles(plan, report.scenario);
	await ensureWorkDirs(plan.workDir, [plan.rehearsalDir]);
	await writeFileAtomic(files.json, `${JSON.stringify(report, null, 2)}\n`, 0o644);
	await writeFileAtomic(files.text, formatRehearsal(report), 0o644);
}
