import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {applyFault} from '../source/engine/faults.js';
import {bootNodeAgain} from '../source/engine/node-again.js';
import {findLeader, Sessions} from '../source/engine/rehearse.js';
import {validateCluster} from '../source/engine/validation.js';
import {buildPlan, etcdVariablesFor, nodeVars, type Plan} from '../source/model/plan.js';
import {commandVariables} from '../source/model/install-plan.js';
import {parseProfile} from '../source/model/parse-profile.js';
import type {Profile} from '../source/model/profile-schema.js';
import type {NodeSsh} from '../source/services/ssh.js';
import {toolPaths} from '../source/services/paths.js';
import {StateStore} from '../source/services/state.js';
import {readTimeline} from '../source/services/timeline.js';
import {withDeadline} from '../source/services/wait.js';

// The VM part of the faults benchmark, run by bench/faults.ts under the VM
// locks. Two clusters of the demo profile, one after the other:
// - network.impairment off, then on: `up` boot to SSH ready, and round trips
//   over the cluster network (ping, an etcd write) on the running cluster;
// - on the second (impairment on, what the fault e2e test runs): for "kill the
//   leader" and "isolate one follower", the time from the fault to the first
//   failing check and from the heal (for kill: booting the node again from its
//   disk) to every check green. Checks run in rounds, each SSH connection
//   attempt and each check capped at ROUND_CAP_MS, so a dead node costs a
//   round at most ROUND_CAP_MS: a time is the end of the first round that saw
//   the change (the round's start is kept too: the change happened between).

export type FaultTiming = {fault: string; toFirstFailureS?: number; firstRoundStartS?: number; firstFailure?: string; healToGreenS?: number; error?: string};
export type LinkTiming = {impairment: boolean; sshReadyS?: number; pingMs?: number; etcdPutMs?: number; error?: string};
export type FaultSessionResult = {lockedAt: number; loadAtStart: number[]; loadAtEnd?: number[]; links: LinkTiming[]; timings: FaultTiming[]; error?: string};

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const BIN = path.join(root, 'dist', 'cli.js');
const CHECKS = ['ssh', 'raft-quorum', 'etcd health', 'crud'];
const LIMIT_MS = 240_000;
const ROUND_CAP_MS = 3000;
const ROUND_LIMIT_MS = 20_000;
const PINGS = 20;
const PUTS = 10;

type Round = {failed: string[]; startedAt: number; at: number};

async function round(profile: Profile, plan: Plan, sessions: Sessions): Promise<Round> {
	const startedAt = Date.now();
	const checking = (async () => {
		const connections = new Map<string, NodeSsh>();
		await Promise.all(plan.nodes.map(node => sessions.of(node, ROUND_CAP_MS).then(ssh => void connections.set(node.name, ssh), () => undefined)));
		const checks = profile.checks.filter(spec => CHECKS.includes(spec.type) || CHECKS.includes(spec.name ?? ''));
		const report = await validateCluster(profile, plan, {connections, checks, onEvent: () => undefined, timeoutCapMs: ROUND_CAP_MS});
		return report.results.filter(r => r.status !== 'ok').map(r => `${r.node ?? 'cluster'} ${r.check}`);
	})();
	// A round that does not end (a check stuck past its own cap) counts as failing, never as a hang.
	const failed = await withDeadline(checking, ROUND_LIMIT_MS, () => new Error('round limit')).catch(() => [`the round did not end within ${ROUND_LIMIT_MS / 1000} s`]);
	const r = {failed, startedAt, at: Date.now()};
	process.stderr.write(`fault-session ${new Date().toISOString()} round ${((r.at - r.startedAt) / 1000).toFixed(1)} s: ${failed.length === 0 ? 'all green' : failed.join(', ')}\n`);
	return r;
}

async function until(what: (r: Round) => boolean, profile: Profile, plan: Plan, sessions: Sessions): Promise<Round> {
	const started = Date.now();
	for (;;) {
		const r = await round(profile, plan, sessions);
		if (what(r)) return r;
		if (Date.now() - started > LIMIT_MS) throw new Error(`not within ${LIMIT_MS / 1000} s; still failing: ${r.failed.join(', ')}`);
	}
}

// A copy of the demo profile in its own home, on free-ish SSH ports.
async function demoIn(home: string, impairment: boolean): Promise<{profile: Profile; plan: Plan; file: string}> {
	const demo = JSON.parse(await fs.readFile(path.join(root, 'profiles', 'demo.json'), 'utf8')) as Record<string, unknown> & {name: string; network: {sshPortBase: number; impairment?: boolean}; boot: {accel: string}; workDir?: string};
	demo.name = `bfl-${impairment ? 'i' : 'p'}-${process.pid}`;
	demo.workDir = path.join(home, impairment ? 'wi' : 'wp');
	demo.network.sshPortBase = 23_000 + (process.pid % 900) * 3;
	demo.network.impairment = impairment;
	demo.boot.accel = 'tcg';
	const file = path.join(home, `${demo.name}.json`);
	await fs.writeFile(file, JSON.stringify(demo));
	const parsed = parseProfile(demo);
	if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
	const imageDir = toolPaths({...process.env, PLASMA_TUI_HOME: undefined}).imageDir;
	return {profile: parsed.profile, plan: buildPlan(parsed.profile, {clustersDir: path.join(home, 'clusters'), imageDir, home, accel: 'tcg'}), file};
}

// Boot to SSH ready of the slowest node, from up's node phases in the timeline.
async function sshReadyS(plan: Plan): Promise<number | undefined> {
	const entries = (await readTimeline(plan.timelineFile)).entries.filter(e => e.kind === 'node-phase');
	const times = plan.nodes.map(node => {
		const booting = entries.find(e => e.node === node.name && e.to === 'booting');
		const ready = entries.find(e => e.node === node.name && e.to === 'ssh-ready');
		return booting && ready ? (Date.parse(ready.at) - Date.parse(booting.at)) / 1000 : undefined;
	});
	return times.some(t => t === undefined) ? undefined : Math.max(...(times as number[]));
}

// node01 -> node02 over the cluster network: ping's average, and an etcd write sent to node02 (etcdctl put), averaged over PUTS.
async function linkRoundTrips(plan: Plan, sessions: Sessions): Promise<{pingMs?: number; etcdPutMs?: number}> {
	const [from, to] = [plan.nodes[0]!, plan.nodes[1]!];
	const ssh = await sessions.of(from);
	const ping = await ssh.exec(`ping -c ${PINGS} -i 0.2 -W 2 ${to.ip}`, {timeoutMs: 60_000});
	const pingMs = Number(/min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(ping.stdout)?.[1]) || undefined;
	const vars = commandVariables(nodeVars(from, plan.cluster), from, etcdVariablesFor(plan, from));
	const etcdctl = `etcdctl --endpoints https://${to.ip}:2379 --cacert ${vars['ca']} --cert ${vars['cert']} --key ${vars['key']} --command-timeout 5s`;
	// Each write is one etcdctl process (its start-up under TCG included, the same with and without impairment).
	const many = Date.now();
	const batch = await ssh.exec(`for i in $(seq ${PUTS}); do ${etcdctl} put plasma-tui/bench/link $i >/dev/null || exit 1; done`, {timeoutMs: 120_000});
	const batchMs = Date.now() - many;
	return {pingMs, etcdPutMs: batch.code === 0 ? batchMs / PUTS : undefined};
}

async function withCluster<T>(home: string, impairment: boolean, env: NodeJS.ProcessEnv, work: (profile: Profile, plan: Plan, sessions: Sessions) => Promise<T>): Promise<T> {
	const {profile, plan, file} = await demoIn(home, impairment);
	const sessions = new Sessions(plan);
	try {
		const up = await execa(process.execPath, [BIN, 'up', '--profile-file', file, '--yes'], {env, reject: false, timeout: 900_000});
		if (up.exitCode !== 0) throw new Error(`up (impairment ${impairment ? 'on' : 'off'}) exited ${up.exitCode}: ${(up.stderr || up.stdout).slice(-300)}`);
		return await work(profile, plan, sessions);
	} finally {
		sessions.close();
		await execa(process.execPath, [BIN, 'down', '--profile-file', file, '--purge', '--yes'], {env, reject: false, timeout: 120_000});
	}
}

async function measureLink(impairment: boolean, plan: Plan, sessions: Sessions): Promise<LinkTiming> {
	const timing: LinkTiming = {impairment};
	try {
		timing.sshReadyS = await sshReadyS(plan);
		Object.assign(timing, await linkRoundTrips(plan, sessions));
	} catch (error) {
		timing.error = (error as Error).message;
	}
	return timing;
}

async function measureFaults(profile: Profile, plan: Plan, sessions: Sessions, result: FaultSessionResult): Promise<void> {
	const state = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
	const measure = async (fault: string, apply: () => Promise<unknown>, heal: () => Promise<unknown>) => {
		const timing: FaultTiming = {fault};
		try {
			await until(r => r.failed.length === 0, profile, plan, sessions);
			const at = Date.now();
			await apply();
			process.stderr.write(`fault-session ${new Date().toISOString()} applied: ${fault}\n`);
			const first = await until(r => r.failed.length > 0, profile, plan, sessions);
			timing.toFirstFailureS = (first.at - at) / 1000;
			timing.firstRoundStartS = Math.max(0, (first.startedAt - at) / 1000);
			timing.firstFailure = first.failed.join(', ');
			const healedAt = Date.now();
			await heal();
			process.stderr.write(`fault-session ${new Date().toISOString()} healed (${((Date.now() - healedAt) / 1000).toFixed(1)} s): ${fault}\n`);
			const green = await until(r => r.failed.length === 0, profile, plan, sessions);
			timing.healToGreenS = (green.at - healedAt) / 1000;
		} catch (error) {
			timing.error = (error as Error).message;
		}
		result.timings.push(timing);
	};
	const {leader} = await findLeader(plan, sessions);
	await measure(
		`kill the leader (${leader})`,
		() => applyFault(plan, {action: 'kill', node: leader}, {state}),
		async () => {
			sessions.drop(leader);
			await bootNodeAgain(profile, plan, leader, {state, onLine: () => undefined});
		},
	);
	const {followers} = await findLeader(plan, sessions);
	const lonely = followers[0]!;
	await measure(`isolate one follower (${lonely})`, () => applyFault(plan, {action: 'isolate', node: lonely}, {state}), () => applyFault(plan, {action: 'heal'}, {state}));
}

async function main(out: string): Promise<void> {
	const result: FaultSessionResult = {lockedAt: Date.now(), loadAtStart: os.loadavg(), links: [], timings: []};
	const home = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-flt-'));
	const imageDir = toolPaths({...process.env, PLASMA_TUI_HOME: undefined}).imageDir;
	const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: imageDir};
	const only = process.env['PLASMA_BENCH_FAULTS'] ?? 'links,faults';
	try {
		if (only.includes('links')) result.links.push(await withCluster(home, false, env, (_profile, plan, sessions) => measureLink(false, plan, sessions)));
		await withCluster(home, true, env, async (profile, plan, sessions) => {
			if (only.includes('links')) result.links.push(await measureLink(true, plan, sessions));
			if (only.includes('faults')) await measureFaults(profile, plan, sessions, result);
		});
	} catch (error) {
		result.error = (error as Error).message;
	} finally {
		result.loadAtEnd = os.loadavg();
		await fs.writeFile(out, JSON.stringify(result, null, 2));
		await fs.rm(home, {recursive: true, force: true});
	}
}

await main(process.argv[2]!);
