import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {applyFault} from '../source/engine/faults.js';
import {bootNodeAgain} from '../source/engine/node-again.js';
import {findLeader, Sessions} from '../source/engine/rehearse.js';
import {validateCluster} from '../source/engine/validation.js';
import {buildPlan, type Plan} from '../source/model/plan.js';
import {parseProfile} from '../source/model/parse-profile.js';
import type {Profile} from '../source/model/profile-schema.js';
import {toolPaths} from '../source/services/paths.js';
import {StateStore} from '../source/services/state.js';

// The VM part of the faults benchmark, run by bench/faults.ts under the VM
// locks: a 3-node demo cluster, then for "kill the leader" and "isolate one
// follower" the time from the fault to the first failing check and from the
// heal (for kill: booting the node again) to every check green. Checks are
// polled in rounds with a 3 s cap each, so times are rounded up to a round.

export type FaultTiming = {fault: string; toFirstFailureS?: number; firstFailure?: string; healToGreenS?: number; error?: string};
export type FaultSessionResult = {lockedAt: number; timings: FaultTiming[]; error?: string};

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const BIN = path.join(root, 'dist', 'cli.js');
const CHECKS = ['ssh', 'raft-quorum', 'etcd health', 'crud'];
const LIMIT_MS = 180_000;

type Round = {failed: string[]; at: number};

async function round(profile: Profile, plan: Plan, sessions: Sessions): Promise<Round> {
	const connections = await sessions.reachable(plan.nodes);
	const checks = profile.checks.filter(spec => CHECKS.includes(spec.type) || CHECKS.includes(spec.name ?? ''));
	const report = await validateCluster(profile, plan, {connections, checks, onEvent: () => undefined, timeoutCapMs: 3000});
	return {failed: report.results.filter(r => r.status !== 'ok').map(r => `${r.node ?? 'cluster'} ${r.check}`), at: Date.now()};
}

async function until(what: (r: Round) => boolean, profile: Profile, plan: Plan, sessions: Sessions): Promise<Round> {
	const started = Date.now();
	for (;;) {
		const r = await round(profile, plan, sessions);
		if (what(r)) return r;
		if (Date.now() - started > LIMIT_MS) throw new Error(`not within ${LIMIT_MS / 1000} s; still failing: ${r.failed.join(', ')}`);
	}
}

async function main(out: string): Promise<void> {
	const result: FaultSessionResult = {lockedAt: Date.now(), timings: []};
	const home = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-flt-'));
	const imageDir = toolPaths({...process.env, PLASMA_TUI_HOME: undefined}).imageDir;
	const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: imageDir};
	const demo = JSON.parse(await fs.readFile(path.join(root, 'profiles', 'demo.json'), 'utf8')) as Record<string, unknown> & {name: string; network: {sshPortBase: number}; workDir?: string};
	demo.name = `bfl-${process.pid}`;
	demo.workDir = path.join(home, 'w');
	demo.network.sshPortBase = 23_000 + (process.pid % 900) * 3;
	const profileFile = path.join(home, 'profile.json');
	await fs.writeFile(profileFile, JSON.stringify(demo));
	const parsed = parseProfile(demo);
	if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
	const profile = parsed.profile;
	const plan = buildPlan(profile, {clustersDir: path.join(home, 'clusters'), imageDir, home, accel: 'tcg'});
	const sessions = new Sessions(plan);
	try {
		const up = await execa(process.execPath, [BIN, 'up', '--profile-file', profileFile, '--yes'], {env, reject: false, timeout: 900_000});
		if (up.exitCode !== 0) throw new Error(`up exited ${up.exitCode}: ${up.stderr.slice(-300)}`);
		const state = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
		const scenario = JSON.parse(await fs.readFile(path.join(root, 'scenarios', 'leader-loss.json'), 'utf8')) as {steps: Array<{rejoin?: string[]}>};
		const rejoin = scenario.steps.find(step => step.rejoin)?.rejoin;

		const measure = async (fault: string, apply: () => Promise<unknown>, heal: () => Promise<unknown>) => {
			const timing: FaultTiming = {fault};
			try {
				await until(r => r.failed.length === 0, profile, plan, sessions);
				const at = Date.now();
				await apply();
				const first = await until(r => r.failed.length > 0, profile, plan, sessions);
				timing.toFirstFailureS = (first.at - at) / 1000;
				timing.firstFailure = first.failed.join(', ');
				const healedAt = Date.now();
				await heal();
				const green = await until(r => r.failed.length === 0, profile, plan, sessions);
				timing.healToGreenS = (green.at - healedAt) / 1000;
			} catch (error) {
				timing.error = (error as Error).message;
			}
			result.timings.push(timing);
		};
		const {leader} = await findLeader(plan, sessions);
		await measure(`kill the leader (${leader})`, () => applyFault(plan, {action: 'kill', node: leader}, {state}), async () => sessions.set(leader, await bootNodeAgain(profile, plan, leader, {state, rejoin, onLine: () => undefined})));
		const {followers} = await findLeader(plan, sessions);
		const lonely = followers[0]!;
		await measure(`isolate one follower (${lonely})`, () => applyFault(plan, {action: 'isolate', node: lonely}, {state}), () => applyFault(plan, {action: 'heal'}, {state}));
	} catch (error) {
		result.error = (error as Error).message;
	} finally {
		sessions.close();
		await execa(process.execPath, [BIN, 'down', '--profile-file', profileFile, '--purge', '--yes'], {env, reject: false, timeout: 120_000});
		await fs.writeFile(out, JSON.stringify(result, null, 2));
		await fs.rm(home, {recursive: true, force: true});
	}
}

await main(process.argv[2]!);
