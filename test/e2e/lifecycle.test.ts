import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {sshTargetFor} from '../../source/engine/up.js';
import type {Plan} from '../../source/model/plan.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {NodeSsh, waitForSsh} from '../../source/services/ssh.js';
import {readState} from '../../source/services/state.js';
import {teardown} from '../../source/services/teardown.js';
import {tempDir} from '../helpers.js';
import {demoProfileIn, processesOf, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = await vmSkip();

// The cluster's life after `up`, on one shared 3-node demo cluster: installed disks,
// stop and start (the key written before the stop is read back), a host reboot
// (every QEMU and the switch killed by hand), and one node stopped and started
// under the quorum guard.

const bin = path.resolve('dist/cli.js');
const home = tempDir('plasma-life-');
const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: sharedImageDir};
let plan: Plan;
let profileFile: string;
const sessions = new Map<string, NodeSsh>();
const timings: Record<string, number> = {};

async function cli(args: string[], timeout = 600_000) {
	const started = Date.now();
	const result = await execa(process.execPath, [bin, ...args, '--profile-file', profileFile], {env, reject: false, timeout, all: true});
	timings[args.join(' ')] = Date.now() - started;
	return {exitCode: result.exitCode, output: result.all ?? ''};
}

async function on(node: string, command: string): Promise<{code: number | null; stdout: string; stderr: string}> {
	let ssh = sessions.get(node);
	if (!ssh || ssh.closed) {
		ssh = await waitForSsh(sshTargetFor(plan, plan.nodes.find(n => n.name === node)!), {timeoutMs: 60_000});
		sessions.set(node, ssh);
	}
	return ssh.exec(command, {timeoutMs: 60_000});
}

function closeSessions() {
	for (const ssh of sessions.values()) ssh.close();
	sessions.clear();
}

function etcdctl(node: string, args: string): string {
	const n = plan.nodes.find(candidate => candidate.name === node)!;
	return `ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${n.secrets.remoteCa} --cert=${n.secrets.remoteCert} --key=${n.secrets.remoteKey} --command-timeout=10s ${args}`;
}

async function readBack(node: string): Promise<string> {
	return (await on(node, etcdctl(node, 'get life-key --print-value-only'))).stdout.trim();
}

before(async () => {
	if (skip) return;
	await ensureDemoImage(sharedImageDir, {});
	({plan, profileFile} = await demoProfileIn(home, 'e2elife'));
});

after(async () => {
	closeSessions();
	if (plan) await teardown(plan, {graceMs: 500, purge: true}).catch(() => undefined);
	fs.rmSync(home, {recursive: true, force: true});
	if (Object.keys(timings).length > 0) console.log(`timings (ms): ${JSON.stringify(timings)}`);
});

test('up installs onto each disk (GPT, ESP + ext4, formatted once) and keeps etcd data and identity on it', {timeout: 900_000, skip}, async () => {
	const up = await cli(['up', '--yes']);
	assert.equal(up.exitCode, 0, up.output);
	for (const node of plan.nodes) {
		const log = fs.readFileSync(node.runtime.installLog, 'utf8');
		assert.match(log, /plasma-disk: partitioned \/dev\/vda: GPT/);
		assert.match(log, /plasma-disk: formatted \/dev\/vda2: ext4/);
		assert.equal((await on(node.name, 'blkid -o value -s PTTYPE /dev/vda')).stdout.trim(), 'gpt');
		assert.equal((await on(node.name, 'blkid -o value -s TYPE /dev/vda2')).stdout.trim(), 'ext4');
		assert.match((await on(node.name, 'cat /proc/mounts')).stdout, /^\/dev\/vda2 \/data ext4 /m);
		assert.equal((await on(node.name, `cmp /etc/ssh/ssh_host_ed25519_key /data/etc/ssh/ssh_host_ed25519_key && ls /data/secrets && test -d /data/var/lib/etcd/${node.name}`)).code, 0, `${node.name}: identity and etcd data on the disk`);
	}
	assert.equal((await on('node01', etcdctl('node01', 'put life-key before-the-stop'))).code, 0);
	// Installing again finds the filesystem: nothing is formatted twice.
	const again = await cli(['up', '--yes', '--force-install']);
	assert.equal(again.exitCode, 0, again.output);
	for (const node of plan.nodes) {
		const log = fs.readFileSync(node.runtime.installLog, 'utf8');
		assert.equal(log.match(/formatted \/dev\/vda2/g)?.length, 1, `${node.name} formatted once:\n${log}`);
		assert.match(log, /kept: ext4 on \/dev\/vda2 \(not formatted again\)/);
	}
	assert.equal(await readBack('node02'), 'before-the-stop');
});

test('stop powers every node down cleanly and keeps disks and state; status says stopped', {timeout: 300_000, skip}, async () => {
	closeSessions();
	const stop = await cli(['stop']);
	assert.equal(stop.exitCode, 0, stop.output);
	for (const node of plan.nodes) assert.match(stop.output, new RegExp(`^${node.name}: stopped \\(powered-down\\)$`, 'm'), `${node.name} answered the ACPI power button:\n${stop.output}`);
	assert.deepEqual(await processesOf(plan), [], 'no QEMU and no switch of the cluster runs');
	for (const node of plan.nodes) assert.ok(fs.existsSync(node.disk.path), 'disk kept');
	const state = await readState(plan.stateFile);
	assert.equal(state?.lifecycle?.cluster, 'stopped');
	const status = await cli(['status']);
	assert.equal(status.exitCode, 3, status.output);
	assert.match(status.output, /^cluster {2}stopped/m);
	assert.doesNotMatch(status.output, /failed/);
});

test('start boots every node from its disk, skips installs, validates, and reads the key back', {timeout: 600_000, skip}, async () => {
	const start = await cli(['start']);
	assert.equal(start.exitCode, 0, start.output);
	for (const node of plan.nodes) {
		assert.match(start.output, new RegExp(`^${node.name}: booting its installed disk`, 'm'));
		assert.match(start.output, new RegExp(`^${node.name}: installed: skipped: done in an earlier run`, 'm'));
		assert.match(fs.readFileSync(node.runtime.consoleLog, 'utf8'), /plasma-ready \S+ \S+ boot=disk/);
	}
	assert.match(start.output, /check persistence-across-restart :2379: ok \(.*read back on/);
	assert.equal(await readBack('node03'), 'before-the-stop');
	const status = await cli(['status']);
	assert.equal(status.exitCode, 0, status.output);
	assert.match(status.output, /^cluster {2}running/m);
});

test('after a host reboot (every QEMU and the switch killed) status says stopped and start recovers the data', {timeout: 600_000, skip}, async () => {
	closeSessions();
	const state = await readState(plan.stateFile);
	const pids = (state?.processes ?? []).map(entry => entry.pid).filter((pid): pid is number => pid !== undefined);
	assert.equal(pids.length, plan.nodes.length + 1, 'three QEMU and the switch on record');
	for (const pid of pids) process.kill(pid, 'SIGKILL');
	const deadline = Date.now() + 20_000;
	while ((await processesOf(plan)).length > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 200));
	assert.deepEqual(await processesOf(plan), []);
	const status = await cli(['status']);
	assert.equal(status.exitCode, 3, status.output);
	assert.match(status.output, /^cluster {2}stopped/m);
	assert.doesNotMatch(status.output, /failed/, 'a host reboot is a stop, not a failure');
	const start = await cli(['start']);
	assert.equal(start.exitCode, 0, start.output);
	assert.match(start.output, /starting the cluster again/);
	assert.equal(await readBack('node01'), 'before-the-stop');
});

test('node stop keeps quorum with the guard saying so, a quorum-losing stop is refused without --force, node start brings it back', {timeout: 600_000, skip}, async () => {
	closeSessions();
	const stop = await cli(['node', 'stop', 'node03']);
	assert.equal(stop.exitCode, 0, stop.output);
	assert.match(stop.output, /stopping node03 leaves 2 of 3 members: quorum holds/);
	assert.match(stop.output, /node03: stopped \(powered-down\)/);
	const status = await cli(['status']);
	assert.match(status.output, /^node03 +stopped/m);
	assert.equal(status.exitCode, 0, `a node stopped on purpose is not a failure:\n${status.output}`);
	const refused = await cli(['node', 'stop', 'node02']);
	assert.equal(refused.exitCode, 2, refused.output);
	assert.match(refused.output, /stopping node02 leaves 1 of 3 members: the cluster loses quorum/);
	assert.match(refused.output, /--force/);
	assert.equal((await processesOf(plan)).length, 3, 'node01, node02 and the switch still run');
	assert.equal((await on('node01', etcdctl('node01', 'put life-key while-node03-was-down'))).code, 0, 'two members keep quorum');
	const start = await cli(['node', 'start', 'node03']);
	assert.equal(start.exitCode, 0, start.output);
	assert.match(start.output, /node03: started .*; \d+ node checks ok$/m);
	// It ends validated, as a started cluster does: healthy in status (and in the TUI's pane), not "installed".
	const started = await cli(['status']);
	assert.match(started.output, /^node03 +healthy /m, started.output);
	const validate = await cli(['validate', '--only', 'raft-quorum,crud']);
	assert.equal(validate.exitCode, 0, validate.output);
	assert.equal(await readBack('node03'), 'while-node03-was-down');
});
