// Issue 10, point 11. On main before this, `status` exited 0 whenever every
// recorded process was alive (processes.every(alive)), even with every node's
// phase `failed`; it now exits 0 only when everything runs and no node failed,
// 1 when a node failed or a process died, 3 when nothing runs.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {statusExitCode} from '../../source/commands/status.js';
import {buildPlan} from '../../source/model/plan.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {onSshHosts} from '../../source/model/ssh-hosts-profile.js';
import {tempDir, template} from '../helpers.js';

test('status exit codes: 0 all running and none failed, 1 any failed or dead, 3 nothing running', () => {
	assert.equal(statusExitCode({running: true, dead: [], failed: ['node01', 'node02', 'node03']}), 1, 'every node failed while QEMU runs');
	assert.equal(statusExitCode({running: true, dead: [], failed: ['node02']}), 1);
	assert.equal(statusExitCode({running: true, dead: ['node02'], failed: []}), 1);
	assert.equal(statusExitCode({running: true, dead: [], failed: []}), 0);
	assert.equal(statusExitCode({running: false, dead: ['node01', 'vde'], failed: ['node01']}), 3);
	assert.equal(statusExitCode({running: false, dead: [], failed: []}), 3);
});

test('status prints a state file\'s reasons without terminal escapes (issue 9, point 10) and exits 3 when nothing runs', async () => {
	const home = tempDir('plasma-status-');
	const profile = template();
	profile.name = 'statustest';
	profile.workDir = path.join(home, 'statustest');
	const plan = buildPlan(profile, {clustersDir: path.join(home, 'clusters'), imageDir: path.join(home, 'image'), home});
	const file = path.join(home, 'statustest.json');
	await writeProfileFile(file, profile);
	// A process that has exited: its pid is recorded, nothing answers to it.
	const gone = spawn(process.execPath, ['-e', '0']);
	await new Promise(resolve => gone.once('exit', resolve));
	const now = new Date().toISOString();
	const reason = 'install.push.commands[0] exited 1: visible-before\u001B]0;pwned\u0007\u001B[2Jvisible-after';
	await fs.mkdir(path.dirname(plan.stateFile), {recursive: true, mode: 0o700});
	await fs.writeFile(
		plan.stateFile,
		JSON.stringify({
			version: 1,
			profile: profile.name,
			workDir: plan.workDir,
			processes: [{kind: 'qemu', node: 'node01', pid: gone.pid, pidfile: plan.nodes[0]!.runtime.pidfile, argv: ['qemu-system-x86_64'], exe: ['qemu-system-x86_64'], match: ['-pidfile', plan.nodes[0]!.runtime.pidfile], sockets: [], ports: [], startedAt: now, status: 'running'}],
			nodes: Object.fromEntries(plan.nodes.map(node => [node.name, {phase: 'failed', reason, since: now}])),
			updatedAt: now,
		}),
	);
	const run = await execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'status', '--profile-file', file], {env: {...process.env, PLASMA_TUI_HOME: home}, reject: false, timeout: 60_000});
	assert.equal(run.exitCode, 3, run.stdout + run.stderr);
	assert.match(run.stdout, /^node02 +failed: install\.push\.commands\[0\] exited 1: visible-beforevisible-after /m);
	assert.doesNotMatch(run.stdout, /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/);
});

test('status of an ssh-hosts profile names each machine by its ssh address (and bastion) and cluster IP, not 127.0.0.1', async () => {
	const home = tempDir('plasma-status-hosts-');
	const profile = onSshHosts(template('demo'), {
		node01: {host: '10.9.0.1', port: 22},
		node02: {host: 'db2.example.org', port: 2222, user: 'admin'},
		node03: {host: '10.9.0.3', port: 22, jump: {host: 'bastion.example.org', port: 2200, user: 'ops'}},
	});
	profile.name = 'statushosts';
	profile.workDir = path.join(home, 'statushosts');
	const file = path.join(home, 'statushosts.json');
	await writeProfileFile(file, profile);
	const run = await execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'status', '--profile-file', file], {env: {...process.env, PLASMA_TUI_HOME: home}, reject: false, timeout: 60_000});
	assert.equal(run.exitCode, 3, run.stdout + run.stderr);
	assert.match(run.stdout, /^node01 +pending  ssh root@10\.9\.0\.1:22  ip 192\.168\.100\.11  console the journal over SSH$/m);
	assert.match(run.stdout, /^node02 +pending  ssh admin@db2\.example\.org:2222  ip 192\.168\.100\.12 /m);
	assert.match(run.stdout, /^node03 +pending  ssh root@10\.9\.0\.3:22 via ops@bastion\.example\.org:2200  ip 192\.168\.100\.13 /m);
	assert.doesNotMatch(run.stdout, /127\.0\.0\.1/);
});
