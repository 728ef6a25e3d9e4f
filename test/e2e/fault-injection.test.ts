import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {sshTargetFor} from '../../source/engine/up.js';
import type {Report} from '../../source/engine/validation.js';
import type {RehearsalReport} from '../../source/model/rehearsal-report.js';
import type {Plan} from '../../source/model/plan.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {nodeRunStatus} from '../../source/services/node-faults.js';
import {findProcesses} from '../../source/services/processes.js';
import {NodeSsh, waitForSsh} from '../../source/services/ssh.js';
import {readState} from '../../source/services/state.js';
import {readTimeline} from '../../source/services/timeline.js';
import {teardown} from '../../source/services/teardown.js';
import {hostTools, skipUnless, tempDir} from '../helpers.js';
import {demoProfileIn, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = (await vmSkip()) || skipUnless(await hostTools({wirefilter: 'vde2'}));

// Live faults on one 3-node demo cluster (network.impairment on: each node
// behind its own wirefilter), through the built binary: freeze/thaw, a 200 ms
// delay measured over the cluster network, isolate and partition, both
// shipped scenarios. No fault may be left active at the end.

const bin = path.resolve('dist/cli.js');
const home = tempDir('plasma-flt-');
const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: sharedImageDir};
let plan: Plan;
let profileFile: string;
const sessions = new Map<string, NodeSsh>();

function cli(args: string[], timeout = 600_000) {
	return execa(process.execPath, [bin, ...args, '--profile-file', profileFile], {env, reject: false, timeout, all: true});
}

async function on(node: string, command: string): Promise<{code: number | null; stdout: string; stderr: string}> {
	let ssh = sessions.get(node);
	if (!ssh || ssh.closed) {
		ssh = await waitForSsh(sshTargetFor(plan, plan.nodes.find(n => n.name === node)!), {timeoutMs: 60_000});
		sessions.set(node, ssh);
	}
	return ssh.exec(command, {timeoutMs: 60_000});
}

const ipOf = (node: string) => plan.nodes.find(n => n.name === node)!.ip;

// Average round trip over the cluster network (busybox ping), in ms; undefined when nothing came back.
async function roundTrip(from: string, to: string, count = 5): Promise<number | undefined> {
	const result = await on(from, `ping -c ${count} -W 2 ${ipOf(to)}`);
	const avg = /min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(result.stdout)?.[1];
	return avg === undefined ? undefined : Number(avg);
}

async function reaches(from: string, to: string): Promise<boolean> {
	return (await on(from, `ping -c 2 -W 2 ${ipOf(to)}`)).code === 0;
}

// The guest's view of its cluster NIC: the carrier of the interface holding its cluster IP.
async function carrier(node: string): Promise<string> {
	const result = await on(node, `dev=$(ip -o addr show | awk '/inet ${ipOf(node).replaceAll('.', '\\.')}\\//{print $2}'); cat /sys/class/net/$dev/carrier`);
	return result.stdout.trim();
}

// A short cap where a check is meant to fail, a long one where it must pass on a loaded host.
async function validate(only: string, timeoutSec = 10): Promise<{exitCode?: number; report: Report; all: string}> {
	const result = await cli(['validate', '--timeout', String(timeoutSec), '--only', only], 300_000);
	return {exitCode: result.exitCode, report: JSON.parse(fs.readFileSync(plan.report.json, 'utf8')) as Report, all: result.all ?? ''};
}

async function faults() {
	return (await readState(plan.stateFile))?.faults ?? [];
}

before(async () => {
	if (skip) return;
	await ensureDemoImage(sharedImageDir, {});
	({plan, profileFile} = await demoProfileIn(home, 'flt', profile => {
		profile.boot.accel = 'tcg';
		profile.network.impairment = true;
	}));
	const up = await cli(['up', '--yes'], 900_000);
	assert.equal(up.exitCode, 0, up.all);
});

after(async () => {
	for (const ssh of sessions.values()) ssh.close();
	if (plan) {
		// A fault left active when the tests end is a failure, whichever test left it.
		const left = await faults();
		const down = await cli(['down'], 120_000);
		await teardown(plan, {graceMs: 500}).catch(() => undefined);
		const running = await findProcesses(p => p.argv.some(arg => arg.includes(`${plan.workDir}/`)));
		fs.rmSync(home, {recursive: true, force: true});
		assert.deepEqual(left, [], 'no fault is on record when the tests end');
		assert.equal(down.exitCode, 0, down.all);
		assert.deepEqual(running.map(p => p.argv.join(' ')), [], 'down stops every QEMU, switch and wirefilter of the cluster');
	}
});

test('every node is plugged in through its own switch and wirefilter, recorded in the state file', {skip}, async () => {
	const state = await readState(plan.stateFile);
	for (const node of plan.nodes) {
		for (const kind of ['node-switch', 'wirefilter'] as const) {
			const entry = state?.processes.find(p => p.kind === kind && p.node === node.name);
			assert.equal(entry?.status, 'running', `${kind} of ${node.name}: ${JSON.stringify(entry)}`);
		}
	}
});

test('freeze: the node hangs (QMP paused) and its checks fail; thaw: it runs and they pass again', {skip, timeout: 600_000}, async t => {
	// Later tests share the cluster: whatever fails here, nothing stays frozen.
	t.after(() => cli(['fault', 'thaw']));
	const freeze = await cli(['fault', 'freeze', 'node03']);
	assert.equal(freeze.exitCode, 0, freeze.all);
	assert.match(freeze.all ?? '', /quorum guard: freezing node03 leaves 2 of 3 members: quorum holds \(needs 2\)/);
	assert.equal(await nodeRunStatus(plan.nodes[2]!), 'paused');
	assert.deepEqual((await faults()).map(f => [f.kind, 'node' in f ? f.node : '']), [['frozen', 'node03']]);
	const status = await cli(['status']);
	assert.match(status.stdout, /node03 .*\[frozen\]/);
	assert.match(status.stdout, /faults +node03: frozen/);
	const json = JSON.parse((await cli(['status', '--json'])).stdout) as {faults: Array<{kind: string}>};
	assert.deepEqual(json.faults.map(f => f.kind), ['frozen']);

	// The frozen node accepts TCP on its forwarded port (QEMU's user-mode NIC) but never answers.
	const frozen = await validate('ssh');
	const onFrozen = frozen.report.results.find(r => r.node === 'node03');
	assert.equal(frozen.exitCode, 1, frozen.all);
	assert.notEqual(onFrozen?.status, 'ok', JSON.stringify(frozen.report.results));
	assert.match(onFrozen?.reason ?? '', /node03 is not reachable over SSH/);
	assert.equal(frozen.report.results.find(r => r.node === 'node01')?.status, 'ok');

	const thaw = await cli(['fault', 'thaw']);
	assert.equal(thaw.exitCode, 0, thaw.all);
	assert.match(thaw.stdout, /thawed node03: frozen/);
	assert.equal(await nodeRunStatus(plan.nodes[2]!), 'running');
	assert.deepEqual(await faults(), []);
	const thawed = await validate('ssh,raft-quorum', 90);
	assert.equal(thawed.exitCode, 0, thawed.all);
});

test('delay 200ms on one link: the round trip to that node rises by about 200 ms, and falls back after heal', {skip, timeout: 300_000}, async t => {
	t.after(() => cli(['fault', 'heal']));
	const before = await roundTrip('node01', 'node02');
	assert.ok(before !== undefined && before < 150, `baseline round trip ${before} ms`);
	const delay = await cli(['fault', 'delay', 'node02', '200ms']);
	assert.equal(delay.exitCode, 0, delay.all);
	assert.match((await cli(['status'])).stdout, /node02 .*\[delay 200ms\]/);
	const slowed = await roundTrip('node01', 'node02');
	assert.ok(slowed !== undefined && slowed - before! > 150 && slowed - before! < 350, `round trip ${before} ms -> ${slowed} ms with delay 200ms`);
	// Only node02's link is slowed: node01 to node03 stays fast.
	const other = await roundTrip('node01', 'node03');
	assert.ok(other !== undefined && other < 150, `node01 -> node03 ${other} ms`);
	const heal = await cli(['fault', 'heal', 'node02']);
	assert.equal(heal.exitCode, 0, heal.all);
	const after = await roundTrip('node01', 'node02');
	assert.ok(after !== undefined && after - before! < 50, `round trip after heal ${after} ms (before ${before} ms)`);
	assert.deepEqual(await faults(), []);
	console.log(`# round trip node01 -> node02: ${before} ms, with delay 200ms ${slowed} ms, after heal ${after} ms`);
});

test('isolate cuts one node off (its carrier drops); a partition splits groups but keeps each whole; heal undoes both', {skip, timeout: 300_000}, async t => {
	t.after(() => cli(['fault', 'heal']));
	const isolate = await cli(['fault', 'isolate', 'node03']);
	assert.equal(isolate.exitCode, 0, isolate.all);
	assert.equal(await carrier('node03'), '0');
	assert.equal(await reaches('node01', 'node03'), false);
	assert.equal(await reaches('node01', 'node02'), true);
	assert.equal((await cli(['fault', 'heal'])).exitCode, 0);
	assert.equal(await carrier('node03'), '1');
	assert.equal(await reaches('node01', 'node03'), true);

	// Three groups of one lose quorum: refused without --force, nothing applied.
	const refused = await cli(['fault', 'partition', 'node01', 'node02', 'node03']);
	assert.equal(refused.exitCode, 1, refused.all);
	assert.match(refused.all ?? '', /the cluster loses quorum .*--force/s);
	assert.deepEqual(await faults(), []);

	const partition = await cli(['fault', 'partition', 'node01,node02|node03']);
	assert.equal(partition.exitCode, 0, partition.all);
	assert.match(partition.stdout, /quorum holds/);
	assert.equal(await reaches('node01', 'node02'), true, 'a group stays connected');
	assert.equal(await reaches('node01', 'node03'), false, 'groups cannot reach each other');
	assert.equal(await reaches('node03', 'node02'), false);
	assert.match((await cli(['status'])).stdout, /node03 .*\[partition 2\/2\]/);
	const heal = await cli(['fault', 'heal']);
	assert.equal(heal.exitCode, 0, heal.all);
	assert.match(heal.stdout, /healed partition node01,node02 \| node03/);
	assert.equal(await reaches('node03', 'node01'), true);
	assert.deepEqual(await faults(), []);
	const entries = (await readTimeline(plan.timelineFile)).entries;
	assert.ok(entries.some(e => e.kind === 'fault' && e.subject === 'cluster' && /partition/.test(e.detail ?? '')));
	assert.ok(entries.some(e => e.kind === 'heal' && e.subject === 'node03'));
});

for (const scenario of ['minority-partition', 'leader-loss']) {
	test(`rehearse ${scenario}: every step holds, the report says so, nothing is left active`, {skip, timeout: 900_000}, async () => {
		const result = await cli(['rehearse', scenario], 900_000);
		const report = JSON.parse(fs.readFileSync(path.join(plan.rehearsalDir, `${scenario}.json`), 'utf8')) as RehearsalReport;
		assert.equal(result.exitCode, 0, result.all);
		assert.equal(report.ok, true);
		assert.equal(report.leftActive, 0);
		assert.match(result.stdout, new RegExp(`plasma-tui rehearsal ${scenario} of flt: every step held`));
		if (scenario === 'leader-loss') {
			// The killed leader came back from its disk, as the same member with its data: no install, and the key written before the kill is still its own.
			assert.match(result.stdout, /node0\d: booting: from its installed disk/);
			assert.match(result.stdout, /node0\d: installed: booted from its disk: install skipped/);
			const kept = report.steps.find(s => s.kind === 'run' && /get plasma-tui\/rehearse\/leader-loss/.test(s.what));
			assert.equal(kept?.status, 'ok', JSON.stringify(report.steps));
			assert.match(kept?.detail ?? '', /written-before-the-kill/);
		}
		console.log(report.steps.map(s => `# ${s.index + 1} ${s.what}: ${s.status} ${(s.durationMs / 1000).toFixed(1)} s`).join('\n'));
	});
}

// ext4 writes a new file's data up to 30 s after its name: a node killed in between came back
// with an empty service command, and its services (etcd) did not start.
test('a node killed right after a service started boots from its disk with that service running', {skip, timeout: 300_000}, async () => {
	const started = await on('node02', '/sbin/svc start plasma-probe sleep 100000');
	assert.equal(started.code, 0, started.stderr);
	const kill = await cli(['fault', 'kill', 'node02']);
	assert.equal(kill.exitCode, 0, kill.all);
	const again = await cli(['node', 'start', 'node02'], 300_000);
	assert.equal(again.exitCode, 0, again.all);
	for (const service of ['plasma-probe', 'etcd']) {
		const status = await on('node02', `/sbin/svc status ${service}`);
		assert.equal(status.code, 0, `${service}: ${status.stdout}${status.stderr}`);
		assert.match(status.stdout, new RegExp(`^${service} running`));
	}
	await on('node02', '/sbin/svc stop plasma-probe');
});

test('no fault is left active: state file, QMP run status, link carriers', {skip, timeout: 120_000}, async () => {
	assert.deepEqual(await faults(), []);
	for (const node of plan.nodes) {
		assert.equal(await nodeRunStatus(node), 'running', node.name);
		assert.equal(await carrier(node.name), '1', node.name);
	}
});
