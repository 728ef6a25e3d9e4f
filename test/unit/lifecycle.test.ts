import {test} from 'node:test';
import assert from 'node:assert/strict';
import {buildPlan} from '../../source/model/plan.js';
import {startGuard} from '../../source/model/node-power.js';
import {stopOrder} from '../../source/engine/cluster-power.js';
import {clusterState, statusExitCode} from '../../source/commands/status.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {template} from '../helpers.js';

const context = {clustersDir: '/w', imageDir: '/img', home: '/h'};
const optionAfter = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

test('boot.afterInstall disk (the default): the demo boots its installed disk with the same kernel, told so on its command line', () => {
	const plan = buildPlan(template('demo'), context);
	assert.equal(plan.boot.afterInstall, 'disk');
	for (const node of plan.nodes) {
		assert.equal(optionAfter(node.qemuArgsInstalled, '-kernel'), optionAfter(node.qemuArgs, '-kernel'));
		assert.equal(optionAfter(node.qemuArgsInstalled, '-append'), `${node.append} plasma.boot=disk`);
		assert.doesNotMatch(optionAfter(node.qemuArgs, '-append')!, /plasma\.boot=disk/, 'the first boot is a blank netboot');
		const strip = (args: string[]) => args.filter(arg => !arg.includes('plasma.boot=disk') && !arg.startsWith('console='));
		assert.deepEqual(strip(node.qemuArgsInstalled), strip(node.qemuArgs), 'only the command line differs');
	}
});

test('boot.afterInstall netboot: the same QEMU arguments after the install', () => {
	const profile = template('demo');
	profile.boot.afterInstall = 'netboot';
	for (const node of buildPlan(profile, context).nodes) assert.deepEqual(node.qemuArgsInstalled, node.qemuArgs);
});

test('a nixos-anywhere install boots from its disk by firmware: no -kernel, -boot order=c', () => {
	const profile = template('demo');
	profile.install.method = 'nixos-anywhere';
	const node = buildPlan(profile, context).nodes[0]!;
	assert.ok(node.qemuArgs.includes('-kernel'));
	assert.ok(!node.qemuArgsInstalled.includes('-kernel') && !node.qemuArgsInstalled.includes('-append'));
	assert.equal(optionAfter(node.qemuArgsInstalled, '-boot'), 'order=c');
});

test('boot.afterInstall is checked by the schema: an unknown value is refused with its path', () => {
	const input = JSON.parse(JSON.stringify(template('demo'))) as Record<string, Record<string, unknown>>;
	input['boot']!['afterInstall'] = 'cdrom';
	const result = parseProfile(input);
	assert.equal(result.ok, false);
	assert.ok(!result.ok && result.errors.some(error => error.field === 'boot.afterInstall'), JSON.stringify(!result.ok && result.errors));
});

test('a stop takes the workers first, then the control planes together', () => {
	const nodes = [{name: 'a', role: 'control-plane'}, {name: 'w1', role: 'worker'}, {name: 'b', role: 'control-plane'}, {name: 'w2', role: 'worker'}];
	assert.deepEqual(stopOrder(nodes).map(group => group.map(node => node.name)), [['w1', 'w2'], ['a', 'b']]);
	assert.deepEqual(stopOrder(nodes.filter(node => node.role !== 'worker')).length, 1);
});

test('status: a cluster with nothing running but an installed state is stopped (stop or host reboot), exit 3, not failed', () => {
	assert.equal(clusterState({running: false, recorded: true}), 'stopped');
	assert.equal(clusterState({running: false, recorded: true, lifecycle: 'running'}), 'stopped', 'a host reboot: the state still says running');
	assert.equal(clusterState({running: false, recorded: false}), 'not started');
	assert.equal(clusterState({running: true, recorded: true, lifecycle: 'stopping'}), 'stopping');
	assert.equal(clusterState({running: true, recorded: true}), 'running');
	assert.equal(statusExitCode({running: false, dead: ['node01', 'node02', 'node03', 'vde'], failed: []}), 3);
});

test('the start guard says how many members are up before and after', () => {
	assert.equal(startGuard('node02', ['node01', 'node02', 'node03'], ['node02']).message, 'starting node02: 2 of 3 members up before, 3 after');
	assert.equal(startGuard('w1', ['node01', 'node02', 'node03'], []).message, 'starting w1: 3 of 3 members up before, 3 after');
});
