import {test} from 'node:test';
import assert from 'node:assert/strict';
import {isProblem, withAddedNode, withRemovedNode} from '../../source/model/node-membership.js';
import {buildPlan} from '../../source/model/plan.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {template} from '../helpers.js';

// A node's port on the cluster switch is its own: removing another node does not move it
// (its QEMU and fault partition/heal use the same port), and a node added later takes a free one.

const context = {clustersDir: '/w', imageDir: '/img', home: '/h', accel: 'tcg' as const};

function ports(profile: Profile): Record<string, number> {
	return Object.fromEntries(buildPlan(profile, context).nodes.map(node => [node.name, node.link.switchPort]));
}

test('today\'s profiles keep their ports: node01 on 1, node02 on 2, ...', () => {
	assert.deepEqual(ports(template()), {node01: 1, node02: 2, node03: 3});
});

for (const impairment of [false, true]) {
	test(`node remove keeps the other nodes' switch ports; a later node add takes a free one (impairment ${impairment})`, () => {
		const profile = template();
		profile.network.impairment = impairment;
		const removed = withRemovedNode(profile, 'node01');
		assert.ok(!isProblem(removed));
		assert.deepEqual(ports(removed), {node02: 2, node03: 3});
		// The QEMU argument says the same port (without impairment QEMU plugs into the cluster switch's port itself).
		const plan = buildPlan(removed, context);
		if (!impairment) assert.ok(plan.nodes[0]!.qemuArgs.some(arg => arg.includes(',port=2')), plan.nodes[0]!.qemuArgs.join(' '));
		const add = withAddedNode(removed, 'worker');
		assert.ok(!isProblem(add));
		const after = ports(add.profile);
		assert.equal(after['node02'], 2);
		assert.equal(after['node03'], 3);
		assert.equal(new Set(Object.values(after)).size, 3, JSON.stringify(after));
		// The profile as written back parses again (the kept port is a known key).
		assert.ok(parseProfile(JSON.parse(JSON.stringify(add.profile))).ok);
	});
}

test('a remove in the middle, then two adds: no port twice', () => {
	const removed = withRemovedNode(template(), 'node02');
	assert.ok(!isProblem(removed));
	assert.deepEqual(ports(removed), {node01: 1, node03: 3});
	const one = withAddedNode(removed, 'worker');
	assert.ok(!isProblem(one));
	const two = withAddedNode(one.profile, 'worker');
	assert.ok(!isProblem(two));
	const after = ports(two.profile);
	assert.equal(new Set(Object.values(after)).size, 4, JSON.stringify(after));
	assert.equal(after['node01'], 1);
	assert.equal(after['node03'], 3);
});
