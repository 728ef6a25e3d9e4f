import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {buildPlan} from '../../source/model/plan.js';
import {stopCluster} from '../../source/engine/cluster-power.js';
import {stopOneNode} from '../../source/engine/node-power.js';
import {startNodeLink, stopNodeLink} from '../../source/services/node-link.js';
import {findProcesses} from '../../source/services/processes.js';
import {readState, StateStore} from '../../source/services/state.js';
import {teardown} from '../../source/services/teardown.js';
import {startSwitch} from '../../source/services/vde.js';
import {hostTools, skipUnless, template, tempDir} from '../helpers.js';

const skip = skipUnless(await hostTools({vde_switch: 'vde2', wirefilter: 'vde2'}));

// `stop` and `node stop` take each node's link daemons (network.impairment) down with its QEMU:
// left running they stay plugged into the old cluster switch's socket, and `start` would reuse them.
// Real vde_switch and wirefilter processes, no VMs (a node whose QEMU is not running stops as "gone").

function impairedPlan(dir: string) {
	const profile = template('demo');
	profile.workDir = path.join(dir, 'w');
	profile.network.impairment = true;
	return {profile, plan: buildPlan(profile, {clustersDir: dir, imageDir: path.join(dir, 'img'), home: dir, accel: 'tcg'})};
}

const linkKinds = ['node-switch', 'wirefilter'];

test('stop stops every node\'s switch and wirefilter and drops them from the state file', {skip, timeout: 60_000}, async () => {
	const dir = tempDir('plasma-stop-links-');
	const {profile, plan} = impairedPlan(dir);
	try {
		const state = await StateStore.open(plan.stateFile, plan.profileName, plan.workDir);
		await startSwitch(plan, state);
		for (const node of plan.nodes) await startNodeLink(node, plan, state);
		const result = await stopCluster(profile.name, plan, {onEvent: () => undefined, graceMs: 200});
		assert.deepEqual(result.notStopped, []);
		assert.deepEqual((await readState(plan.stateFile))!.processes.filter(p => linkKinds.includes(p.kind)), []);
		assert.deepEqual(await findProcesses(p => p.argv.some(arg => arg.includes(plan.workDir))), []);
	} finally {
		for (const node of plan.nodes) await stopNodeLink(node).catch(() => undefined);
		await teardown(plan, {graceMs: 200}).catch(() => undefined);
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('node stop stops that node\'s switch and wirefilter only', {skip, timeout: 60_000}, async () => {
	const dir = tempDir('plasma-stop-links-');
	const {profile, plan} = impairedPlan(dir);
	try {
		const state = await StateStore.open(plan.stateFile, plan.profileName, plan.workDir);
		await startSwitch(plan, state);
		for (const node of plan.nodes) await startNodeLink(node, plan, state);
		await stopOneNode(profile, plan, 'node02', {onEvent: () => undefined});
		const left = (await readState(plan.stateFile))!.processes.filter(p => linkKinds.includes(p.kind)).map(p => `${p.kind} ${p.node}`).sort();
		assert.deepEqual(left, ['node-switch node01', 'node-switch node03', 'wirefilter node01', 'wirefilter node03']);
		const running = await findProcesses(p => p.argv.some(arg => arg.includes(path.join(plan.workDir))) && p.argv.some(arg => arg.includes('node02')));
		assert.deepEqual(running, []);
	} finally {
		for (const node of plan.nodes) await stopNodeLink(node).catch(() => undefined);
		await teardown(plan, {graceMs: 200}).catch(() => undefined);
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
