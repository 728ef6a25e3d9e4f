import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {buildPlan} from '../../source/model/plan.js';
import {applyFault} from '../../source/engine/faults.js';
import {startNodeLink, stopNodeLink} from '../../source/services/node-link.js';
import {findProcesses} from '../../source/services/processes.js';
import {readState, StateStore} from '../../source/services/state.js';
import {teardown} from '../../source/services/teardown.js';
import {readTimeline} from '../../source/services/timeline.js';
import {manage} from '../../source/services/vde-manage.js';
import {startSwitch} from '../../source/services/vde.js';
import {hostTools, skipUnless, template, tempDir} from '../helpers.js';

const skip = skipUnless(await hostTools({vde_switch: 'vde2', wirefilter: 'vde2'}));

// The wiring behind impairment and partitions, with real vde_switch and
// wirefilter processes (no VMs): each node's link daemons are recorded,
// answer on their management sockets, take impairments, and `down` stops them.

function impairedPlan(dir: string) {
	const profile = template('demo');
	profile.workDir = path.join(dir, 'w');
	profile.network.impairment = true;
	return buildPlan(profile, {clustersDir: dir, imageDir: path.join(dir, 'img'), home: dir, accel: 'tcg'});
}

test('a node link is a switch and a wirefilter on the node\'s port; delay and partition reach them; down stops all', {skip, timeout: 60_000}, async () => {
	const dir = tempDir('plasma-link-');
	const plan = impairedPlan(dir);
	try {
		const state = await StateStore.open(plan.stateFile, plan.profileName, plan.workDir);
		await startSwitch(plan, state);
		for (const node of plan.nodes) await startNodeLink(node, plan, state);
		const recorded = (await readState(plan.stateFile))!.processes;
		assert.deepEqual(recorded.filter(p => p.kind === 'wirefilter').map(p => [p.node, p.status]), plan.nodes.map(n => [n.name, 'running']));
		// The wirefilter sits on the node's fixed port of the cluster switch.
		const ports = (await manage(plan.vde.mgmt, ['port/print']))[0]!.output;
		for (const node of plan.nodes) assert.match(ports, new RegExp(`Port ${String(node.link.switchPort).padStart(4, '0')} untagged_vlan=0000 ACTIVE`));

		// A fault that is not for a wirefilter-less link: delay is set in the node's outgoing direction.
		await applyFault(plan, {action: 'delay', node: 'node02', value: 200}, {state});
		const info = (await manage(plan.nodes[1]!.link.impairment!.wirefilterMgmt, ['showinfo']))[0]!.output;
		assert.match(info, /Delay +L->R 200\+0U +R->L 0\+0U/);
		assert.deepEqual(state.current.faults?.map(f => f.kind), ['impaired']);

		// A partition moves each group's ports into a VLAN of its own (guarded: 2 of 3 keep quorum).
		await applyFault(plan, {action: 'partition', groups: [['node01', 'node02'], ['node03']]}, {state, alive: new Set(plan.nodes.map(n => n.name))});
		const split = (await manage(plan.vde.mgmt, ['port/print']))[0]!.output;
		assert.match(split, /Port 0001 untagged_vlan=0101/);
		assert.match(split, /Port 0003 untagged_vlan=0102/);
		// No QEMU runs here; the guard is told all three do.
		await assert.rejects(applyFault(plan, {action: 'isolate', node: 'node01'}, {state, alive: new Set(plan.nodes.map(n => n.name))}), /refused: isolating node01 leaves 1 of 3 members: the cluster loses quorum \(needs 2\)/);

		const healed = await applyFault(plan, {action: 'heal'}, {state});
		assert.deepEqual(healed.done, ['healed node02: delay 200ms', 'healed partition node01,node02 | node03']);
		const back = (await manage(plan.vde.mgmt, ['port/print']))[0]!.output;
		assert.doesNotMatch(back, /untagged_vlan=010/);
		assert.match((await manage(plan.nodes[1]!.link.impairment!.wirefilterMgmt, ['showinfo']))[0]!.output, /Delay +L->R 0\+0U/);
		assert.equal((await readState(plan.stateFile))!.faults, undefined);
		const kinds = (await readTimeline(plan.timelineFile)).entries.map(e => `${e.kind} ${e.subject}`);
		assert.deepEqual(kinds, ['fault node02', 'fault cluster', 'heal node02', 'heal cluster']);

		// A fault on record when down runs is gone with it; every daemon stops.
		await applyFault(plan, {action: 'loss', node: 'node03', value: 10}, {state});
		const report = await teardown(plan, {graceMs: 500});
		assert.deepEqual(report.notStopped, []);
		assert.equal((await readState(plan.stateFile))!.faults, undefined);
		assert.deepEqual(await findProcesses(p => p.argv.some(arg => arg.includes(plan.workDir))), []);
	} finally {
		for (const node of plan.nodes) await stopNodeLink(node).catch(() => undefined);
		await teardown(plan, {graceMs: 200}).catch(() => undefined);
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('down finds the link daemons by their pidfiles when the state file is gone', {skip, timeout: 60_000}, async () => {
	const dir = tempDir('plasma-link-');
	const plan = impairedPlan(dir);
	try {
		const state = await StateStore.open(plan.stateFile, plan.profileName, plan.workDir);
		await startSwitch(plan, state);
		await startNodeLink(plan.nodes[0]!, plan, state);
		fs.rmSync(plan.stateFile);
		const report = await teardown(plan, {graceMs: 500});
		assert.equal(report.stopped.filter(line => /wirefilter|vde_switch/.test(line)).length, 3, report.stopped.join('\n'));
		assert.deepEqual(await findProcesses(p => p.argv.some(arg => arg.includes(plan.workDir))), []);
	} finally {
		await stopNodeLink(plan.nodes[0]!).catch(() => undefined);
		await teardown(plan, {graceMs: 200}).catch(() => undefined);
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
