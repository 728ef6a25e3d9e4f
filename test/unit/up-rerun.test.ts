import {after, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {rerunCheck} from '../../source/engine/up-rerun.js';
import type {Report} from '../../source/engine/validation.js';
import {buildPlan} from '../../source/model/plan.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {ensureKeyPair, fingerprintOfPublicKeyFile} from '../../source/services/ssh-keys.js';
import {skipUnless, tempDir, template} from '../helpers.js';
import {freePort, sshdPrerequisites, startSshd, type LocalSshd} from '../local-sshd.js';

// `up` on a cluster that is up and validated, without VMs: the node is a local
// sshd, its "QEMU" a process of this test recorded in the state file the way up
// records QEMU. The e2e (demo-flow) does the same on real VMs.

const MARK = 'plasma-rerun-test-qemu';

describe('up again on a validated cluster (a local sshd as the node)', {skip: skipUnless(await sshdPrerequisites())}, () => {
	const home = tempDir('plasma-rerun-');
	let sshd: LocalSshd | undefined;
	const standIn = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', MARK], {stdio: 'ignore'});
	const switchStandIn = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', `${MARK}-switch`], {stdio: 'ignore'});
	after(async () => {
		standIn.kill();
		switchStandIn.kill();
		await sshd?.stop();
		fs.rmSync(home, {recursive: true, force: true});
	});
	const cli = (args: string[]) => execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', ...args], {env: {...process.env, PLASMA_TUI_HOME: home}, reject: false, all: true, timeout: 120_000});

	test('skips preflight, boot and install, runs the node-local checks only (all with --full), and says why it would not', async () => {
		const profile = template();
		profile.name = 'reruntest';
		profile.workDir = path.join(home, 'reruntest');
		profile.nodes = profile.nodes.slice(0, 1);
		profile.nodes[0]!.sshPort = await freePort();
		profile.checks = [
			{type: 'ssh', timeoutSec: 10},
			{type: 'command', name: 'marker', command: 'true', expectExit: 0, timeoutSec: 10},
			// No etcd behind the local sshd: this cluster check fails whenever it runs.
			{type: 'raft-quorum', port: 2379, timeoutSec: 1},
		];
		const plan = buildPlan(profile, {clustersDir: path.join(home, 'clusters'), imageDir: path.join(home, 'image'), home});
		const file = path.join(home, 'reruntest.json');
		await writeProfileFile(file, profile);
		await ensureKeyPair(plan.ssh.privateKey, plan.ssh.publicKey, 'plasma-test');
		const node = plan.nodes[0]!;
		await ensureKeyPair(node.files.hostKey, node.files.hostKeyPub, `root@${node.hostname}`);
		sshd = await startSshd({port: node.sshPort, authorizedKeys: fs.readFileSync(plan.ssh.publicKey, 'utf8'), hostKey: {path: node.files.hostKey, fingerprint: await fingerprintOfPublicKeyFile(node.files.hostKeyPub)}});

		// A green validation of this plan (the node checks), then the node's QEMU on record, started before it.
		const validated = await cli(['validate', '--profile-file', file, '--only', 'ssh,marker']);
		assert.equal(validated.exitCode, 0, validated.all);
		const state = JSON.parse(fs.readFileSync(plan.stateFile, 'utf8')) as {processes: unknown[]; lifecycle?: unknown};
		const startedAt = new Date(Date.now() - 3_600_000).toISOString();
		state.processes.push({kind: 'vde', pid: switchStandIn.pid, argv: [process.execPath, `${MARK}-switch`], exe: [process.execPath], match: [`${MARK}-switch`], sockets: [], ports: [], startedAt, status: 'running'});
		state.processes.push({kind: 'qemu', node: node.name, pid: standIn.pid, argv: [process.execPath, MARK], exe: [process.execPath], match: [MARK], sockets: [], ports: [], startedAt, status: 'running'});
		fs.writeFileSync(plan.stateFile, JSON.stringify(state));

		const again = await cli(['up', '--profile-file', file, '--yes']);
		const output = again.all ?? '';
		assert.equal(again.exitCode, 0, output);
		assert.match(output, /^up again: preflight, boot and install skipped: the cluster is already up and validated \(state file says running, 2 processes alive, plan unchanged, last validation green at /m);
		assert.match(output, /validating the 2 node-local checks only; 1 cluster checks keep their last result \(--full runs them too\)/);
		for (const stage of plan.stages.filter(s => s !== 'validate')) assert.match(output, new RegExp(`^\\[${stage}\\] skipped: the cluster is already up and validated`, 'm'));
		assert.deepEqual([...output.matchAll(/^\[([^\]]+)\] start$/gm)].map(m => m[1]), ['validate']);
		assert.match(output, /^node01: check ssh: ok/m);
		assert.match(output, /^node01: check marker: ok/m);
		assert.doesNotMatch(output, /check raft-quorum/);
		assert.match(output, /^\[validate\] done: 2 checks passed in \d+\.\d s wall for \d+\.\d s of checks/m);
		assert.match(output, /^up after \d+ s: node01 healthy$/m);

		// --full: every check, the cluster one too (it fails here: no etcd), still without boot.
		const full = await cli(['up', '--profile-file', file, '--yes', '--full']);
		assert.equal(full.exitCode, 1, full.all);
		assert.match(full.all ?? '', /validating all 3 checks \(--full\)/);
		assert.match(full.all ?? '', /^\[boot\] skipped/m);
		assert.match(full.all ?? '', /check raft-quorum :2379: failed/);
		const report = JSON.parse(fs.readFileSync(plan.report.json, 'utf8')) as Report;
		assert.deepEqual(report.results.map(r => `${r.check}:${r.status}`), ['ssh:ok', 'marker:ok', 'raft-quorum :2379:failed']);

		// Now the last validation failed: up would boot as usual, and says so (asked without running it).
		assert.deepEqual(await rerunCheck(plan).then(v => [v.rerun, v.why]), [false, 'the last validation failed']);
		// So would it once the node's QEMU is gone (the switch still runs); with nothing left running, it is a plain first up.
		standIn.kill();
		await new Promise(resolve => standIn.once('exit', resolve));
		assert.match((await rerunCheck(plan)).why ?? '', /^node01's qemu \(pid \d+\) no longer running$/);
		switchStandIn.kill();
		await new Promise(resolve => switchStandIn.once('exit', resolve));
		assert.deepEqual(await rerunCheck(plan).then(v => [v.rerun, v.why]), [false, undefined]);
	});
});
