import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {bootCluster, type BootResult} from '../../source/engine/boot.js';
import type {RunEvent} from '../../source/model/events.js';
import type {Plan} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {readState} from '../../source/services/state.js';
import {teardown} from '../../source/services/teardown.js';
import {tempDir} from '../helpers.js';
import {demoProfileIn, portFree, processesOf, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = await vmSkip();

// Real VMs: 3 demo nodes under TCG on a real vde_switch, then a killed QEMU,
// `status`, `console` and `down` through the CLI, and an aborted boot.

const root = path.resolve(import.meta.dirname, '..', '..');
const home = tempDir('plasma-boot-');
// The demo image is built once per machine (CI: `plasma-tui image`) in the shared cache.
const imageDir = sharedImageDir;
const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: imageDir};
const plans: Plan[] = [];

// nodes: how many of the demo's to boot (the interrupt tests need two to show "every node", not three).
async function demoProfile(name: string, nodes = 3): Promise<{profile: Profile; plan: Plan; profileFile: string}> {
	const made = await demoProfileIn(home, name, profile => (profile.nodes = profile.nodes.slice(0, nodes)));
	plans.push(made.plan);
	await writeArtifacts(made.plan);
	return made;
}

function cli(args: string[]) {
	return execa(process.execPath, ['--import', 'tsx', path.join(root, 'source', 'cli.tsx'), ...args], {cwd: root, env, reject: false, timeout: 120_000});
}

before(async () => {
	if (skip) return;
	await ensureDemoImage(imageDir, {});
});

after(async () => {
	for (const plan of plans) await teardown(plan, {graceMs: 500}).catch(() => undefined);
	fs.rmSync(home, {recursive: true, force: true});
});

test('3 demo nodes boot on a VDE switch; a killed QEMU marks only its node failed; down leaves nothing', {timeout: 600_000, skip}, async () => {
	const {profile, plan, profileFile} = await demoProfile('boot3');
	const events: RunEvent[] = [];
	let boot: BootResult | undefined;
	try {
		boot = await bootCluster(profile, plan, {onEvent: event => events.push(event), waitForReady: true, readyTimeoutMs: 300_000});
		assert.equal(boot.interrupted, false);
		for (const node of plan.nodes) {
			const log = fs.readFileSync(node.runtime.consoleLog, 'utf8');
			assert.match(log, new RegExp(`plasma-ready ${node.hostname} ${node.ip.replaceAll('.', '\\.')}`), `${node.name} printed its ready line`);
			assert.equal(boot.phases[node.name], 'console', `${node.name}: ${boot.phases[node.name]}`);
			const phases = events.filter(e => e.type === 'node-phase' && e.node === node.name).map(e => (e as {phase: string}).phase);
			assert.deepEqual(phases, ['booting', 'console']);
		}
		assert.equal((await processesOf(plan)).length, 4, 'three QEMUs and one switch');

		// Disks: qcow2, the profile's size, sparse.
		const info = JSON.parse((await execa('qemu-img', ['info', '-U', '--output=json', plan.nodes[0]!.disk.path])).stdout) as {format: string; 'virtual-size': number; 'actual-size': number};
		assert.equal(info.format, 'qcow2');
		assert.equal(info['virtual-size'], profile.defaults.diskGiB * 1024 ** 3);
		assert.ok(info['actual-size'] < 16 * 1024 ** 2, `sparse: ${info['actual-size']} bytes used`);

		// A rerun attaches instead of starting duplicates, and keeps the disks.
		const rerunEvents: RunEvent[] = [];
		const rerun = await bootCluster(profile, plan, {onEvent: event => rerunEvents.push(event)});
		assert.ok([...rerun.nodes.values()].every(n => n.attached));
		assert.equal(rerunEvents.filter(e => e.type === 'log' && /disk kept|attached/.test(e.message)).length, 6);
		assert.ok(rerunEvents.some(e => e.type === 'log' && /VDE switch already running .*reused/.test(e.message)));
		rerun.close();
		assert.equal((await processesOf(plan)).length, 4);

		const status = await cli(['status', '--profile-file', profileFile]);
		assert.equal(status.exitCode, 0, status.stdout + status.stderr);
		for (const node of plan.nodes) assert.match(status.stdout, new RegExp(`${node.name} +console .*\\(alive\\).*127\\.0\\.0\\.1:${node.sshPort}`));
		const consoleOut = await cli(['console', 'node01', '--no-follow', '--profile-file', profileFile]);
		assert.equal(consoleOut.exitCode, 0);
		assert.match(consoleOut.stdout, /plasma-ready node01 /);
		// Following: prints what is there, keeps going, and ends cleanly on Ctrl-C.
		const follow = cli(['console', 'node03', '--profile-file', profileFile]);
		let followed = '';
		follow.stdout?.on('data', chunk => (followed += String(chunk)));
		const seen = Date.now() + 20_000;
		while (!followed.includes('plasma-ready node03') && Date.now() < seen) await new Promise(resolve => setTimeout(resolve, 100));
		follow.kill('SIGINT');
		const followResult = await follow;
		assert.equal(followResult.exitCode, 0, followResult.stderr);
		assert.match(followed, /plasma-ready node03 /);
		assert.doesNotMatch(followed, /^node03: /m, 'raw lines, no prefix');
		const unknown = await cli(['console', 'node09', '--no-follow', '--profile-file', profileFile]);
		assert.equal(unknown.exitCode, 2);
		assert.match(unknown.stderr, /node01, node02, node03/);

		// Kill one QEMU: that node is reported failed, the others stay up.
		const victim = boot.nodes.get('node02')!;
		process.kill(victim.pid, 'SIGKILL');
		await victim.exited;
		const deadline = Date.now() + 10_000;
		while (boot.phases['node02'] !== 'failed' && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100));
		assert.equal(boot.phases['node02'], 'failed');
		const failedEvent = events.find(e => e.type === 'node-phase' && e.node === 'node02' && e.phase === 'failed');
		assert.match((failedEvent as {reason?: string}).reason ?? '', /QEMU exited/);
		assert.equal(boot.phases['node01'], 'console');
		assert.equal(boot.phases['node03'], 'console');
		for (const name of ['node01', 'node03']) process.kill(boot.nodes.get(name)!.pid, 0);
		const afterKill = await cli(['status', '--profile-file', profileFile]);
		assert.equal(afterKill.exitCode, 1, afterKill.stdout);
		assert.match(afterKill.stdout, /node02 +failed/);
	} finally {
		boot?.close();
	}

	// down finds a node even when its pidfile and the state file are gone (by its command line).
	const node03 = plan.nodes.find(n => n.name === 'node03')!;
	const node03Pid = Number(fs.readFileSync(node03.runtime.pidfile, 'utf8'));
	fs.rmSync(node03.runtime.pidfile);
	fs.rmSync(plan.stateFile);
	const down = await cli(['down', '--profile-file', profileFile]);
	assert.equal(down.exitCode, 0, down.stderr);
	assert.match(down.stdout, /stopped node01/);
	assert.match(down.stdout, new RegExp(`stopped pid ${node03Pid} \\(\\S*qemu-system-x86_64`));
	assert.match(down.stdout, /stopped vde_switch/);
	assert.deepEqual(await processesOf(plan), []);
	for (const node of plan.nodes) assert.ok(await portFree(node.sshPort), `port ${node.sshPort} is free again`);
	assert.equal(fs.existsSync(path.join(plan.workDir, 'run')), false);
	const afterDown = await cli(['status', '--profile-file', profileFile]);
	assert.equal(afterDown.exitCode, 3, afterDown.stdout);
});

test('an abort during boot stops everything that boot started', {timeout: 300_000, skip}, async () => {
	const {profile, plan} = await demoProfile('abort', 2);
	const controller = new AbortController();
	const events: RunEvent[] = [];
	const result = await bootCluster(profile, plan, {
		signal: controller.signal,
		waitForReady: true,
		onEvent: event => {
			events.push(event);
			// Abort mid-boot: once every QEMU prints on its console, well before the ready lines.
			const consoles = events.filter(e => e.type === 'node-phase' && e.phase === 'console').length;
			if (consoles === plan.nodes.length && !controller.signal.aborted) controller.abort(new Error('SIGINT'));
		},
	});
	assert.equal(result.interrupted, true);
	assert.ok(!events.some(e => e.type === 'log' && e.message.startsWith('ready:')), 'aborted before any node was ready');
	assert.deepEqual((await readState(plan.stateFile))?.processes, [], 'the state file no longer lists stopped processes');
	assert.deepEqual(Object.values(result.phases), ['failed', 'failed']);
	const stopped = events.find(e => e.type === 'log' && e.message.startsWith('stopped: '));
	assert.match((stopped as {message: string}).message, /node01 .*node02 .*vde_switch/);
	assert.deepEqual(await processesOf(plan), []);
	for (const node of plan.nodes) assert.ok(await portFree(node.sshPort));
});

test('Ctrl-C during a headless `up` leaves no process behind', {timeout: 300_000, skip}, async () => {
	const {plan, profileFile} = await demoProfile('sigint', 2);
	const up = cli(['up', '--profile-file', profileFile, '--yes', '--boot-only']);
	let output = '';
	up.stdout?.on('data', chunk => (output += String(chunk)));
	up.stderr?.on('data', chunk => (output += String(chunk)));
	const deadline = Date.now() + 120_000;
	// Interrupt once every node is on its way (its console is printing).
	while (!plan.nodes.every(n => output.includes(`${n.name}: console`)) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100));
	assert.ok((await processesOf(plan)).length > 0, `the nodes were running before Ctrl-C:\n${output}`);
	up.kill('SIGINT');
	const result = await up;
	assert.equal(result.exitCode, 130, output);
	assert.deepEqual(await processesOf(plan), []);
	for (const node of plan.nodes) assert.ok(await portFree(node.sshPort));
});

test('an interrupt before boot ends the run with 130 and starts nothing', {timeout: 120_000, skip}, async () => {
	const {profile, plan} = await demoProfile('early');
	const {runUp} = await import('../../source/engine/up.js');
	const result = await runUp(profile, {plan, signal: AbortSignal.abort(new Error('SIGINT')), onEvent: () => undefined});
	assert.equal(result.exitCode, 130);
	assert.equal(result.interrupted, true);
	assert.deepEqual(await processesOf(plan), []);
	assert.equal(fs.existsSync(plan.stateFile), false, 'no state file: nothing was started');
});
