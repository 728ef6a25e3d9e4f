import {test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {isProblem, memberListCommands, withAddedNode, withRemovedNode} from '../../source/model/node-membership.js';
import {buildPlan} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {template, tempDir} from '../helpers.js';

// After a control plane comes or goes, what names the members on the nodes that stay is run again:
// the workers' etcd grpc-proxy --endpoints, never the members' own etcd (its --initial-cluster changes too).

function planOf(profile: Profile, joining?: string[]) {
	const dir = tempDir('plasma-member-lists-');
	const plan = buildPlan(profile, {clustersDir: path.join(dir, 'clusters'), imageDir: path.join(dir, 'image'), home: dir, joining});
	assert.deepEqual(plan.problems, []);
	return plan;
}

function withWorker(): Profile {
	const added = withAddedNode(template('demo'), 'worker');
	assert.ok(!isProblem(added));
	return added.profile;
}

test('control plane added: the worker\'s proxy command runs again with the new member; the members\' etcd does not', () => {
	const profile = withWorker();
	const grown = withAddedNode(profile, 'control-plane');
	assert.ok(!isProblem(grown));
	const commands = memberListCommands(grown.profile.install.push.commands, planOf(profile), planOf(grown.profile, [grown.node]));
	assert.deepEqual(commands.map(c => `${c.node} ${c.field}`), ['node04 install.push.commands[2]']);
	assert.match(commands[0]!.command, /^\/sbin\/svc stop etcd-proxy && \/sbin\/svc start etcd-proxy etcd grpc-proxy start --endpoints 'https:\/\/node01:2379,https:\/\/node02:2379,https:\/\/node03:2379,https:\/\/node05:2379' /);
});

test('control plane removed: the worker\'s proxy no longer names it', () => {
	const profile = withWorker();
	const shrunk = withRemovedNode(profile, 'node02');
	assert.ok(!isProblem(shrunk));
	const commands = memberListCommands(shrunk.install.push.commands, planOf(profile), planOf(shrunk));
	assert.deepEqual(commands.map(c => c.node), ['node04']);
	assert.match(commands[0]!.command, /--endpoints 'https:\/\/node01:2379,https:\/\/node03:2379' /);
});

test('a worker that comes or goes changes no member list', () => {
	const profile = withWorker();
	const more = withAddedNode(profile, 'worker');
	assert.ok(!isProblem(more));
	assert.deepEqual(memberListCommands(more.profile.install.push.commands, planOf(profile), planOf(more.profile)), []);
	const fewer = withRemovedNode(profile, 'node04');
	assert.ok(!isProblem(fewer));
	assert.deepEqual(memberListCommands(fewer.install.push.commands, planOf(profile), planOf(fewer)), []);
});
