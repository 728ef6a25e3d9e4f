import {test} from 'node:test';
import assert from 'node:assert/strict';
import {addMember} from '../../source/services/etcd-members.js';
import {planIn, tempDir} from '../helpers.js';

// etcd answers "unhealthy cluster" to a membership change for 5 s after a member (re)connected:
// the change is tried again within a bound, anything else fails at once.
const UNHEALTHY = {code: 1, signal: null, stdout: '', stderr: 'Error: etcdserver: unhealthy cluster'};
const LIST = {code: 0, signal: null, stdout: '8e9e05c52164694d, started, node01, https://node01:2380, https://node01:2379, false\n', stderr: ''};

function fakeSsh(answers: Array<typeof LIST>) {
	const commands: string[] = [];
	return {commands, ssh: {exec: async (command: string) => (commands.push(command), answers.shift() ?? {code: 0, signal: null, stdout: '', stderr: ''})}};
}

test('member add is tried again while etcd says "unhealthy cluster", then succeeds', async () => {
	const plan = planIn(tempDir());
	const {commands, ssh} = fakeSsh([LIST, UNHEALTHY, UNHEALTHY, {code: 0, signal: null, stdout: 'Member added', stderr: ''}]);
	const result = await addMember(ssh as never, plan.nodes[0]!, {...plan.nodes[2]!, name: 'node04', etcd: {...plan.nodes[2]!.etcd, peerUrl: 'https://node04:2380'}}, undefined, {withinMs: 5_000, everyMs: 10});
	assert.equal(result, 'added');
	assert.equal(commands.filter(c => c.includes("'add'")).length, 3);
});

test('member add gives up after its bound on "unhealthy cluster", and at once on any other error', async () => {
	const plan = planIn(tempDir());
	const joiner = {...plan.nodes[2]!, name: 'node04', etcd: {...plan.nodes[2]!.etcd, peerUrl: 'https://node04:2380'}};
	const always = fakeSsh([LIST, ...Array.from({length: 100}, () => UNHEALTHY)]);
	await assert.rejects(addMember(always.ssh as never, plan.nodes[0]!, joiner, undefined, {withinMs: 100, everyMs: 20}), /unhealthy cluster/);
	assert.ok(always.commands.length < 10, `bounded: ${always.commands.length} tries`);
	const other = fakeSsh([LIST, {code: 1, signal: null, stdout: '', stderr: 'Error: permission denied'}]);
	await assert.rejects(addMember(other.ssh as never, plan.nodes[0]!, joiner, undefined, {withinMs: 5_000, everyMs: 10}), /permission denied/);
	assert.equal(other.commands.length, 2);
});
