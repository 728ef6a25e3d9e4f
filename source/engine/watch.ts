import {setTimeout as sleep} from 'node:timers/promises';
import type {CheckSpec, Profile} from '../model/profile-schema.js';
import type {NodePlan, Plan} from '../model/plan.js';
import type {RunEventListener} from '../model/events.js';
import {allGreen, checkTransitions, EMPTY_CHECK_MEMORY, type CheckMemory, type CheckTransition, type FactChange} from '../model/check-transitions.js';
import {transitionEntries} from '../model/timeline-record.js';
import type {TimelineEntry} from '../model/timeline.js';
import {checkName} from '../services/checks/registry.js';
import type {NodeSsh} from '../services/ssh.js';
import {reachNodes} from './validate-running.js';
import {validateCluster, type CheckResult} from './validation.js';
import type {TimelineRecorder} from './timeline-recorder.js';

// Watch mode: the profile's checks again and again against a running cluster,
// reporting what changed. SSH sessions are kept between rounds; a node whose
// session broke is connected again in the background while the rounds go on,
// so a dead node costs a round nothing and a frozen one at most the check timeout.
// Watch changes nothing: no state file write, no report, no node phase (those
// belong to the commands that hold the work directory lock); it only appends
// to the timeline, which parallel writers share safely.

export type WatchRound = {
	round: number;
	// When the round started (ISO) and how long it took.
	at: string;
	durationMs: number;
	results: CheckResult[];
	transitions: CheckTransition[];
	facts: FactChange[];
	// Nodes that did not answer on SSH this round, with why.
	silent: Record<string, string>;
	// Nodes that stopped or started answering since the last round.
	wentSilent: string[];
	answersAgain: string[];
	green: boolean;
};

export type WatchOptions = {
	checks: CheckSpec[];
	intervalMs: number;
	// Ends after this long (no round starts after it); else runs until the signal.
	forMs?: number;
	signal?: AbortSignal;
	onRound: (round: WatchRound) => void;
	// The rounds' check results as events (the TUI's checklist); waits are not passed on.
	onEvent?: RunEventListener;
	// How long one round waits for a node's SSH, and for each check.
	connectTimeoutMs?: number;
	checkTimeoutMs?: number;
	timeline?: TimelineRecorder;
};

export type WatchResult = {rounds: number; last?: WatchRound; interrupted: boolean};

// A round's checks wait at most this long: the interval, within 5 to 10 s (TCG guests on a busy host answer slowly).
export function watchCheckTimeoutMs(intervalMs: number): number {
	return Math.min(10_000, Math.max(5_000, intervalMs));
}

export const WATCH_CONNECT_TIMEOUT_MS = 10_000;

export async function watchCluster(profile: Profile, plan: Plan, options: WatchOptions): Promise<WatchResult> {
	const started = Date.now();
	const deadline = options.forMs === undefined ? Infinity : started + options.forMs;
	const sessions = new Map<string, NodeSsh>();
	const connectTimeoutMs = options.connectTimeoutMs ?? WATCH_CONNECT_TIMEOUT_MS;
	const checkTimeoutMs = options.checkTimeoutMs ?? watchCheckTimeoutMs(options.intervalMs);
	let memory: CheckMemory = EMPTY_CHECK_MEMORY;
	let silentBefore: Record<string, string> = {};
	let last: WatchRound | undefined;
	let rounds = 0;
	const onEvent: RunEventListener = event => {
		if (event.type === 'check' && event.status === 'waiting') return;
		options.onEvent?.(event);
	};
	// A node without a session is connected in the background, across rounds: a node that does not
	// answer costs a round nothing (its checks fail at once), and is checked again once it answers.
	const connector = new AbortController();
	const connectSignal = options.signal ? AbortSignal.any([options.signal, connector.signal]) : connector.signal;
	const pending = new Map<string, Promise<void>>();
	const connectFailed: Record<string, string> = {};
	const connect = (node: NodePlan): Promise<void> => {
		const running = pending.get(node.name);
		if (running) return running;
		const attempt = reachNodes(plan, [node], {timeoutMs: connectTimeoutMs, signal: connectSignal})
			.then(reached => {
				for (const ssh of reached.opened) {
					if (connectSignal.aborted) ssh.close();
					else sessions.set(node.name, ssh);
				}
				if (reached.unreachable[node.name] === undefined) delete connectFailed[node.name];
				else connectFailed[node.name] = reached.unreachable[node.name];
			})
			.finally(() => pending.delete(node.name));
		pending.set(node.name, attempt);
		return attempt;
	};
	const live = (node: string) => sessions.get(node)?.closed === false;
	try {
		while (!options.signal?.aborted && Date.now() < deadline) {
			const roundStart = Date.now();
			const connecting = plan.nodes.filter(n => !live(n.name)).map(connect);
			// The first round waits for every node's first answer (or its connect timeout).
			if (rounds === 0) await Promise.all(connecting);
			if (options.signal?.aborted) break;
			const connections = new Map([...sessions].filter(([name]) => live(name)));
			// A node without a session is reported check by check as failed (not reachable over SSH).
			const report = await validateCluster(profile, plan, {connections, checks: options.checks, onEvent, signal: options.signal, timeoutCapMs: checkTimeoutMs, writeReport: false}).catch((error: unknown) => {
				if (options.signal?.aborted) return undefined;
				throw error;
			});
			const unreachable = Object.fromEntries(
				plan.nodes.filter(n => !connections.has(n.name)).map(n => [n.name, connectFailed[n.name] ?? (sessions.has(n.name) ? 'its SSH session closed; connecting again' : 'connecting')]),
			);
			if (!report) break;
			rounds++;
			const at = new Date(roundStart).toISOString();
			const seen = checkTransitions(memory, report.results, at);
			memory = seen.memory;
			const silent = unreachable;
			const round: WatchRound = {
				round: rounds,
				at,
				durationMs: Date.now() - roundStart,
				results: report.results,
				transitions: seen.transitions,
				facts: seen.facts,
				silent,
				wentSilent: Object.keys(silent).filter(node => silentBefore[node] === undefined),
				answersAgain: rounds === 1 ? [] : Object.keys(silentBefore).filter(node => silent[node] === undefined),
				green: allGreen(report.results),
			};
			silentBefore = silent;
			last = round;
			options.timeline?.record([...reachabilityEntries(round), ...transitionEntries(round.transitions, round.facts)]);
			options.onRound(round);
			const pause = Math.min(deadline, roundStart + options.intervalMs) - Date.now();
			// An abort ends the pause: the loop then sees it and stops.
			if (pause > 0) await sleep(pause, undefined, {signal: options.signal}).catch(() => undefined);
		}
	} finally {
		connector.abort(new Error('watch ended'));
		await Promise.allSettled([...pending.values()]);
		for (const ssh of sessions.values()) ssh.close();
		await options.timeline?.flush();
	}
	return {rounds, last, interrupted: options.signal?.aborted === true};
}

// A node that stops answering on SSH (or answers again) is a fact of the timeline: watch does not change node phases.
function reachabilityEntries(round: WatchRound): TimelineEntry[] {
	return [
		...round.wentSilent.map((node): TimelineEntry => ({at: round.at, kind: 'fact', subject: 'answers-ssh', node, from: 'yes', to: 'no', detail: silentLine(node, round.silent[node]!)})),
		...round.answersAgain.map((node): TimelineEntry => ({at: round.at, kind: 'fact', subject: 'answers-ssh', node, from: 'no', to: 'yes'})),
	];
}

export function silentLine(node: string, reason: string): string {
	return `${node} does not answer on SSH (${reason})`;
}
