import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {bootCluster} from '../../source/engine/boot.js';
import type {RunEvent} from '../../source/model/events.js';
import {runUp} from '../../source/engine/up.js';
import type {Plan} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {readPidfile} from '../../source/services/processes.js';
import {teardown} from '../../source/services/teardown.js';
import {tempDir} from '../helpers.js';
import {demoProfileIn, portFree, processesOf, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = await vmSkip();

// Faults with real VMs (demo image, TCG, one or two nodes each): a lost state
// file, two profiles side by side, a VM that dies while it installs.

const root = path.resolve(import.meta.dirname, '..', '..');
const home = tempDir('plasma-faults-');
const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: sharedImageDir};
const plans: Plan[] = [];

function cli(args: string[]) {
	return execa(process.execPath, ['--import', 'tsx', path.join(root, 'source', 'cli.tsx'), ...args], {cwd: root, env, reject: false, timeout: 120_000});
}

async function smallProfile(name: string, nodes: number, edit?: (profile: Profile) => void) {
	const made = await demoProfileIn(home, name, profile => {
		profile.nodes = profile.nodes.slice(0, nodes);
		profile.boot.accel = 'tcg';
		profile.checks = [];
		edit?.(profile);
	});
	plans.push(made.plan);
	return made;
}

// Everything a running profile holds: its processes, its SSH ports, its sockets.
async function holdings(plan: Plan) {
	const processes = (await processesOf(plan)).map(p => p.pid).sort();
	const ports = await Promise.all(plan.nodes.map(n => portFree(n.sshPort).then(free => !free)));
	const sockets = [plan.vde.socket, plan.vde.mgmt, ...plan.nodes.flatMap(n => [n.runtime.consoleSocket, n.runtime.qmpSocket])].filter(s => fs.existsSync(s));
	return {processes, portsHeld: ports.every(Boolean), portsFree: ports.every(held => !held), sockets};
}

before(async () => {
	if (skip) return;
	await ensureDemoImage(sharedImageDir, {});
});

after(async () => {
	for (const plan of plans) await teardown(plan, {graceMs: 500}).catch(() => undefined);
	fs.rmSync(home, {recursive: true, force: true});
});

test('two profiles run side by side; down finds one without its state file and leaves the other alone', {timeout: 400_000, skip}, async () => {
	// "fa" is a prefix of "fab": the work-directory tag must not match across them.
	const a = await smallProfile('fa', 1);
	const b = await smallProfile('fab', 1);
	await Promise.all([writeArtifacts(a.plan), writeArtifacts(b.plan)]);
	const boots = await Promise.all([a, b].map(p => bootCluster(p.profile, p.plan, {onEvent: () => undefined, waitForReady: true, readyTimeoutMs: 240_000})));
	for (const boot of boots) boot.close();
	for (const [index, boot] of boots.entries()) assert.equal(boot.phases['node01'], 'console', `profile ${index}: ${JSON.stringify(boot.phases)}`);

	const bBefore = await holdings(b.plan);
	assert.equal(bBefore.processes.length, 2, 'b runs one QEMU and one switch');
	assert.ok(bBefore.portsHeld);
	assert.equal(bBefore.sockets.length, 4);
	const aBefore = await holdings(a.plan);
	assert.equal(aBefore.processes.length, 2);
	assert.equal(aBefore.processes.filter(pid => bBefore.processes.includes(pid)).length, 0, 'no process counts for both');

	// a loses its state file while it runs: down finds its node and switch by their pidfiles.
	fs.rmSync(a.plan.stateFile);
	const downA = await cli(['down', '--profile-file', a.profileFile]);
	assert.equal(downA.exitCode, 0, downA.stderr);
	// Through QMP (the monitor is a -chardev/-mon pair now): powered down or quit, not killed.
	assert.match(downA.stdout, /stopped node01 \((powered-down|quit)\)/);
	assert.match(downA.stdout, /stopped vde_switch /);
	const aAfter = await holdings(a.plan);
	assert.deepEqual(aAfter.processes, []);
	assert.ok(aAfter.portsFree, 'a\'s SSH port is free again');
	assert.deepEqual(aAfter.sockets, []);

	// b is untouched: same processes, its port still held, its sockets and state file still there.
	assert.deepEqual(await holdings(b.plan), bBefore);
	assert.ok(fs.existsSync(b.plan.stateFile));
	const status = await cli(['status', '--profile-file', b.profileFile]);
	assert.equal(status.exitCode, 0, status.stdout + status.stderr);
	assert.match(status.stdout, /node01 +console .*\(alive\)/);

	// b loses its state file and every pidfile: down finds both by their tagged command lines.
	const nodePid = await readPidfile(b.plan.nodes[0]!.runtime.pidfile);
	const switchPid = await readPidfile(b.plan.vde.pidfile);
	fs.rmSync(b.plan.stateFile);
	fs.rmSync(b.plan.nodes[0]!.runtime.pidfile);
	fs.rmSync(b.plan.vde.pidfile);
	const downB = await cli(['down', '--profile-file', b.profileFile]);
	assert.equal(downB.exitCode, 0, downB.stderr);
	assert.match(downB.stdout, new RegExp(`stopped pid ${nodePid} \\(\\S*qemu-system-x86_64`));
	assert.match(downB.stdout, new RegExp(`stopped pid ${switchPid} \\(\\S*vde_switch`));
	const bAfter = await holdings(b.plan);
	assert.deepEqual(bAfter.processes, []);
	assert.ok(bAfter.portsFree);
	assert.deepEqual(bAfter.sockets, []);
});

test('a VM that dies while it installs fails with its console\'s last lines; the other node finishes', {timeout: 400_000, skip}, async () => {
	const {profile, plan} = await smallProfile('dies', 2, p => {
		// node01's install has a slow step to be killed in; node02's is short.
		p.install.push.commands = ['echo installing {name}', 'case {name} in node01) sleep 60;; *) sleep 1;; esac', 'echo installed {name}'];
		// A check makes the run write its report; the failed node's checks are reported as not run.
		p.checks = [{type: 'ssh', timeoutSec: 5}];
	});
	const events: RunEvent[] = [];
	let killed: number | undefined;
	const result = await runUp(profile, {
		plan,
		onEvent: event => {
			events.push(event);
			if (event.type === 'install-output' && event.node === 'node01' && /sleep 60/.test(event.line) && killed === undefined) {
				void readPidfile(plan.nodes[0]!.runtime.pidfile).then(pid => {
					killed = pid;
					if (pid) process.kill(pid, 'SIGKILL');
				});
			}
		},
	});
	assert.ok(killed, 'node01 was killed while it ran its slow install step');
	assert.equal(result.exitCode, 1);
	assert.equal(result.failedStage, 'install');
	// Boot passed (both nodes answered on SSH); install names the node that died in it.
	const ended = events.flatMap(e => (e.type === 'stage' && e.status !== 'start' ? [`${e.stage} ${e.status}${e.message ? `: ${e.message}` : ''}`] : []));
	assert.ok(ended.includes('boot done: 2 nodes ssh-ready'), ended.join('\n'));
	assert.ok(ended.includes('install failed: node01 failed; 1 reached installed'), ended.join('\n'));
	// The node that finished is still validated (issue 10.2: partial validation).
	assert.equal(result.phases['node02'], 'healthy', JSON.stringify(result.phases));
	assert.equal(result.phases['node01'], 'failed');
	assert.ok(events.some(e => e.type === 'install-output' && e.node === 'node02' && /installed node02/.test(e.line)));
	// node02 still runs; down then stops it.
	assert.equal((await processesOf(plan)).filter(p => p.cmdline.includes('qemu-system')).length, 1);
	await teardown(plan, {graceMs: 500});
	assert.deepEqual(await processesOf(plan), []);
	const failed = events.find(e => e.type === 'node-phase' && e.node === 'node01' && e.phase === 'failed') as {reason?: string} | undefined;
	const reason = failed?.reason ?? '';
	// The reason says QEMU went away and shows what the console printed last.
	assert.match(reason, /QEMU exited/, reason);
	assert.match(reason, /last lines: .*\S/, reason);
	// The report names the node and the same reason; the node that finished passed its check.
	const report = JSON.parse(fs.readFileSync(plan.report.json, 'utf8')) as {ok: boolean; results: Array<{node?: string; type: string; status: string; reason?: string}>};
	assert.equal(report.ok, false);
	assert.deepEqual(report.results.map(r => [r.node, r.type, r.status]).sort(), [['node01', 'ssh', 'not-run'], ['node02', 'ssh', 'ok']]);
	assert.equal(report.results.find(r => r.node === 'node01')!.reason, `node01 did not finish: ${reason}`);
	const consoleTail = fs.readFileSync(plan.nodes[0]!.runtime.consoleLog, 'utf8').trimEnd().split('\n').slice(-5).map(l => l.trim()).filter(Boolean);
	assert.ok(consoleTail.some(line => reason.includes(line.slice(0, 40))), `the reason quotes the console (${JSON.stringify(consoleTail)}): ${reason}`);
});
