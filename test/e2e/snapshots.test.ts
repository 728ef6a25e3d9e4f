import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {sshTargetFor} from '../../source/engine/up.js';
import type {Plan} from '../../source/model/plan.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {readState} from '../../source/services/state.js';
import {readTimeline} from '../../source/services/timeline.js';
import {NodeSsh, waitForSsh} from '../../source/services/ssh.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {teardown} from '../../source/services/teardown.js';
import {tempDir} from '../helpers.js';
import {demoProfileIn, processesOf, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = await vmSkip();

// Whole-cluster snapshots on one 3-node demo cluster, through the built binary:
// save with key A, write B, restore: A is there, B is not, every check green;
// a changed node count is refused; the same after `down` and `up --from-snapshot`.

const bin = path.resolve('dist/cli.js');
const home = tempDir('plasma-snap-');
const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: sharedImageDir};
let plan: Plan;
let profileFile: string;
let twoNodeFile: string;
const sessions = new Map<string, NodeSsh>();

function cli(args: string[], timeout = 600_000) {
	return execa(process.execPath, [bin, ...args], {env, reject: false, timeout, all: true});
}

// A restore breaks every SSH session (the guest's TCP state is the saved one): always a fresh one after it.
function dropSessions(): void {
	for (const ssh of sessions.values()) ssh.close();
	sessions.clear();
}

async function on(node: string, command: string) {
	let ssh = sessions.get(node);
	if (!ssh || ssh.closed) {
		ssh = await waitForSsh(sshTargetFor(plan, plan.nodes.find(n => n.name === node)!), {timeoutMs: 60_000});
		sessions.set(node, ssh);
	}
	return ssh.exec(command, {timeoutMs: 60_000});
}

function etcdctl(node: string, args: string): string {
	const n = plan.nodes.find(candidate => candidate.name === node)!;
	return `ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${n.secrets.remoteCa} --cert=${n.secrets.remoteCert} --key=${n.secrets.remoteKey} --command-timeout=10s ${args}`;
}

async function valueOf(key: string): Promise<string> {
	const got = await on('node02', etcdctl('node02', `get ${key} --print-value-only`));
	assert.equal(got.code, 0, got.stderr);
	return got.stdout.trim();
}

async function assertKeysAfterRestore(output: string): Promise<void> {
	dropSessions();
	assert.equal(await valueOf('snap-key-a'), 'before-s1', `key A is back\n${output}`);
	assert.equal(await valueOf('snap-key-b'), '', `key B (written after s1) is gone\n${output}`);
	// The guest clock was stepped to the host's: within a few seconds.
	const guest = Number((await on('node01', 'date +%s')).stdout.trim());
	assert.ok(Math.abs(guest - Date.now() / 1000) < 5, `guest clock ${guest} vs host ${Date.now() / 1000}`);
}

before(async () => {
	if (skip) return;
	await ensureDemoImage(sharedImageDir, {});
	const made = await demoProfileIn(home, 'snap');
	plan = made.plan;
	profileFile = made.profileFile;
	const two = await demoProfileIn(home, 'snap', profile => {
		profile.network.sshPortBase = made.profile.network.sshPortBase;
		profile.nodes = profile.nodes.slice(0, 2);
	});
	twoNodeFile = path.join(home, 'snap-two-nodes.json');
	await writeProfileFile(twoNodeFile, two.profile);
	// demoProfileIn wrote both to <home>/snap.json: the 3-node one goes back there.
	await writeProfileFile(profileFile, made.profile);
});

after(async () => {
	dropSessions();
	if (plan) await teardown(plan, {graceMs: 500, purge: true}).catch(() => undefined);
	fs.rmSync(home, {recursive: true, force: true});
});

// "[leader node02, term 2" from a raft-quorum check line: who leads, in which term.
function raftLeadership(output: string): string {
	const found = /check raft-quorum :2379: ok .*\[(leader \w+, term \d+)/.exec(output);
	assert.ok(found, `a raft-quorum line with leader and term in:\n${output}`);
	return found[1]!;
}

let savedLeadership = '';

// The internal snapshots a node's disk holds (read beside the running QEMU).
async function snapshotTags(disk: string): Promise<string[]> {
	const info = await execa('qemu-img', ['info', '-U', '--output=json', disk]);
	return ((JSON.parse(info.stdout) as {snapshots?: Array<{name: string}>}).snapshots ?? []).map(s => s.name);
}

// The lines that carry numbers (pause spread, gap, timings), for the log of the run.
function numbers(output: string): string {
	return output.split('\n').filter(line => /^(saved|restored|up |up after)|paused|wall clock|clock stepped|waiting for ssh|\[\w+\] (done|failed)/.test(line)).join('\n');
}

test('save, write, restore: the cluster is back at the saved instant with every check green', {timeout: 900_000, skip}, async t => {
	const up = await cli(['up', '--profile-file', profileFile, '--yes']);
	assert.equal(up.exitCode, 0, up.all);
	t.diagnostic(numbers(up.all ?? ''));
	assert.equal((await on('node01', etcdctl('node01', 'put snap-key-a before-s1'))).code, 0);
	const quorum = await cli(['validate', '--only', 'raft-quorum', '--profile-file', profileFile]);
	assert.equal(quorum.exitCode, 0, quorum.all);
	savedLeadership = raftLeadership(quorum.all ?? '');

	const save = await cli(['snapshot', 'save', 's1', '--profile-file', profileFile]);
	assert.equal(save.exitCode, 0, save.all);
	assert.match(save.all ?? '', /paused 3 nodes within [\d.]+ ms of each other/);
	assert.match(save.all ?? '', /cluster wall clock gap: [\d.]+ s paused/);
	t.diagnostic(numbers(save.all ?? ''));
	const list = await cli(['snapshot', 'list', '--profile-file', profileFile]);
	assert.equal(list.exitCode, 0, list.all);
	assert.match(list.stdout, /^s1 +\S+ +3 +\d+ MiB/m);
	t.diagnostic(list.stdout);
	assert.ok(fs.existsSync(path.join(plan.snapshotsDir, 's1.json')));
	// The cluster runs on after the save.
	assert.equal((await on('node01', etcdctl('node01', 'put snap-key-b after-s1'))).code, 0);
	assert.equal(await valueOf('snap-key-b'), 'after-s1');

	const restore = await cli(['snapshot', 'restore', 's1', '--profile-file', profileFile]);
	assert.equal(restore.exitCode, 0, restore.all);
	t.diagnostic(numbers(restore.all ?? ''));
	// No copy of the state before the restore unless asked for (--rollback, below).
	assert.match(restore.all ?? '', /^loaded s1 on 3 nodes; .*, no rollback copy$/m);
	// Checks that change a node are left out of a restore, and the line says so (--full runs them).
	assert.match(restore.all ?? '', /restored s1 .* all \d+ checks green \(not run: persistence :2379: it restarts the service on a member; snapshot restore --full runs it too\)/);
	assert.doesNotMatch(restore.all ?? '', /check persistence :2379:/);
	assert.match(restore.all ?? '', /check raft-quorum :2379: ok/);
	assert.match(restore.all ?? '', /check crud :2379: ok/);
	// Back at the saved instant, Raft included: the same leader in the same term, no election after the
	// restore (etcd's default 1 s election timeout lost a third of the restores to one under TCG).
	assert.equal(raftLeadership(restore.all ?? ''), savedLeadership, restore.all);
	await assertKeysAfterRestore(restore.all ?? '');
	// Nothing left on record as in progress; the timeline has the save and the restore.
	assert.equal((await readState(plan.stateFile))?.snapshot, undefined);
	const timeline = (await readTimeline(plan.timelineFile)).entries.filter(e => e.kind === 'snapshot').map(e => e.to);
	assert.deepEqual(timeline, ['saved s1', 'restored s1']);
	// The restore's last line says where the time went, node by node.
	assert.match(restore.all ?? '', /in [\d.]+ s: pause \d+ ms, save aside \d+ ms, load\+resume \d+ ms, ssh\+clock \d+ ms \(node01 [\d.]+ s\+[\d.]+ s, node02 .*\), checks \d+ ms \(slowest: /);
	// Two more restores of the same snapshot, the first with the rollback copy: each one finds the
	// saved leader and term too, and the copy is gone from every disk once the restore stands.
	for (const args of [['--rollback'], []]) {
		const again = await cli(['snapshot', 'restore', 's1', ...args, '--profile-file', profileFile]);
		assert.equal(again.exitCode, 0, again.all);
		assert.equal(raftLeadership(again.all ?? ''), savedLeadership, `restore ${args.join(' ')}:\n${again.all}`);
		if (args.length > 0) {
			assert.match(again.all ?? '', /save aside [1-9]\d* ms/);
			for (const node of plan.nodes) assert.deepEqual(await snapshotTags(node.disk.path), ['s1'], `${node.name}'s disk holds s1 only`);
		}
	}
	dropSessions();
});

test('restore --full: the same cluster back, no copy set aside on any disk, every check of the profile green', {timeout: 600_000, skip}, async t => {
	assert.equal((await on('node01', etcdctl('node01', 'put snap-key-b after-s1-fast'))).code, 0);
	const restore = await cli(['snapshot', 'restore', 's1', '--full', '--profile-file', profileFile]);
	assert.equal(restore.exitCode, 0, restore.all);
	t.diagnostic(numbers(restore.all ?? ''));
	assert.match(restore.all ?? '', /no rollback copy/);
	assert.match(restore.all ?? '', /save aside \d+ ms.* all \d+ checks green$/m);
	assert.match(restore.all ?? '', /check persistence :2379: ok/);
	await assertKeysAfterRestore(restore.all ?? '');
	for (const node of plan.nodes) assert.deepEqual(await snapshotTags(node.disk.path), ['s1'], `${node.name}'s disk holds s1 only`);
});

test('a restore into a profile with another node count is refused, saying what changed, and changes nothing', {timeout: 300_000, skip}, async () => {
	const before = (await processesOf(plan)).map(p => p.pid).sort();
	const refused = await cli(['snapshot', 'restore', 's1', '--profile-file', twoNodeFile]);
	assert.equal(refused.exitCode, 1, refused.all);
	assert.match(refused.stderr, /cannot be restored: .*node set: the snapshot has 3 node\(s\) \(node01, node02, node03\), the profile has 2 \(node01, node02\)/);
	assert.deepEqual((await processesOf(plan)).map(p => p.pid).sort(), before);
	assert.equal(await valueOf('snap-key-a'), 'before-s1');
});

test('after down, up --from-snapshot brings the saved cluster back without install', {timeout: 900_000, skip}, async t => {
	assert.equal((await on('node01', etcdctl('node01', 'put snap-key-b after-s1-again'))).code, 0);
	dropSessions();
	const down = await cli(['down', '--profile-file', profileFile]);
	assert.equal(down.exitCode, 0, down.all);
	assert.deepEqual(await processesOf(plan), []);
	const up = await cli(['up', '--profile-file', profileFile, '--from-snapshot', 's1', '--yes']);
	const output = up.all ?? '';
	t.diagnostic(numbers(output));
	assert.equal(up.exitCode, 0, output);
	assert.match(output, /^\[certificates\] skipped/m);
	assert.match(output, /^\[install\] skipped/m);
	assert.doesNotMatch(output, /etcd started/, 'nothing was installed');
	assert.match(output, /node01: installed: restored from snapshot s1/);
	assert.match(output, /^\[validate\] done/m);
	for (const p of await processesOf(plan)) if (p.cmdline.includes('qemu-system')) assert.match(p.cmdline, / -loadvm s1( |$)/);
	assert.equal((await readTimeline(plan.timelineFile)).entries.filter(e => e.kind === 'snapshot').at(-1)?.to, 'booted from s1');
	await assertKeysAfterRestore(output);
});

test('delete drops the snapshot from every disk and its metadata', {timeout: 300_000, skip}, async () => {
	const deleted = await cli(['snapshot', 'delete', 's1', '--profile-file', profileFile]);
	assert.equal(deleted.exitCode, 0, deleted.all);
	const list = await cli(['snapshot', 'list', '--profile-file', profileFile]);
	assert.match(list.stdout, /no snapshots/);
	for (const node of plan.nodes) {
		const info = await execa('qemu-img', ['info', '-U', '--output=json', node.disk.path]);
		assert.equal((JSON.parse(info.stdout) as {snapshots?: unknown[]}).snapshots, undefined, `${node.name}'s disk holds no snapshot`);
	}
	const again = await cli(['snapshot', 'restore', 's1', '--profile-file', profileFile]);
	assert.equal(again.exitCode, 1);
	assert.match(again.stderr, /no snapshot s1/);
});
