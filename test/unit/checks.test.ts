import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import {clusterCheckAttempt, type CheckContext} from '../../source/services/checks/registry.js';
import {answerOf} from '../../source/model/check-facts.js';
import type {NodeSsh} from '../../source/services/ssh.js';
import type {Plan} from '../../source/model/plan.js';
import {planIn, template, tempDir} from '../helpers.js';

// Etcd's JSON gateway as each node would answer it: lets the quorum rules be
// tested without a cluster (the real-etcd test is still to be written).
type Answer = {clusterId: string; members: string[]; leader: string; term?: number; ids?: Record<string, string>};

async function contextFor(plan: Plan, answers: Record<string, Answer>, unreachable: string[] = []): Promise<CheckContext> {
	for (const node of plan.nodes) {
		await fs.mkdir(node.secrets.dir, {recursive: true});
		for (const file of [node.secrets.ca, node.secrets.cert, node.secrets.key]) await fs.writeFile(file, 'pem');
	}
	const nodes = plan.nodes.map(node => ({
		node,
		ssh: {
			closed: false,
			async httpsRequest(options: {path: string}) {
				const answer = answers[node.name];
				if (!answer) throw new Error('connect ECONNREFUSED');
				const body =
					options.path === '/v3/cluster/member/list'
						? {header: {cluster_id: answer.clusterId}, members: answer.members.map(name => ({name, ID: answer.ids?.[name]}))}
						: {leader: answer.leader, raftTerm: answer.term === undefined ? undefined : String(answer.term)};
				return {status: 200, headers: {}, body: JSON.stringify(body)};
			},
		} as unknown as NodeSsh,
	}));
	return {plan, nodes: nodes.filter(a => a.node.name in answers || !unreachable.includes(a.node.name)), timeoutMs: 2000};
}

test('raft-quorum passes with one cluster id, one member list and one leader; fails on separate bootstraps and lost majority', async () => {
	const home = tempDir();
	process.env['PLASMA_TUI_HOME'] = home;
	const plan = planIn(home, template());
	const names = plan.nodes.filter(n => n.role === 'control-plane').map(n => n.name);
	assert.equal(names.length, 3);
	const spec = {type: 'raft-quorum', port: 2379, timeoutSec: 2} as const;
	const same = (): Answer => ({clusterId: '42', members: [...names], leader: '7'});

	const healthy = answerOf(await clusterCheckAttempt(spec, await contextFor(plan, Object.fromEntries(names.map(n => [n, same()])))));
	assert.match(healthy.detail, /3 members, leader 7, 3 of 3 answering/);

	const oneDown = answerOf(await clusterCheckAttempt(spec, await contextFor(plan, {[names[0]!]: same(), [names[1]!]: same()})));
	assert.match(oneDown.detail, new RegExp(`2 of 3 answering \\(silent: ${names[2]}\\)`));

	// A node without an SSH connection still counts as a planned member.
	const noSsh = answerOf(await clusterCheckAttempt(spec, await contextFor(plan, {[names[0]!]: same(), [names[1]!]: same()}, [names[2]!])));
	assert.match(noSsh.detail, new RegExp(`3 members, leader 7, 2 of 3 answering \\(silent: ${names[2]}\\)`));

	await assert.rejects(clusterCheckAttempt(spec, await contextFor(plan, {[names[0]!]: same()})), /no quorum: 1 of 3 members answer \(need 2\)/);

	// T036's trap: every node bootstrapped a one-member cluster of its own.
	const separate = Object.fromEntries(names.map((n, i) => [n, {clusterId: String(100 + i), members: [n], leader: String(i + 1)}]));
	await assert.rejects(clusterCheckAttempt(spec, await contextFor(plan, separate)), /different cluster ids.*separate clusters/);

	await assert.rejects(clusterCheckAttempt(spec, await contextFor(plan, Object.fromEntries(names.map(n => [n, {...same(), leader: '0'}])))), /no agreed leader/);
});

test('raft-quorum names the leader by its member name and reports the highest raft term and the member count as facts', async () => {
	const home = tempDir();
	process.env['PLASMA_TUI_HOME'] = home;
	const plan = planIn(home, template());
	const names = plan.nodes.filter(n => n.role === 'control-plane').map(n => n.name);
	const spec = {type: 'raft-quorum', port: 2379, timeoutSec: 2} as const;
	const ids = Object.fromEntries(names.map((n, i) => [n, String(1000 + i)]));
	// One member answered just before a new term began.
	const answers = Object.fromEntries(names.map((n, i) => [n, {clusterId: '42', members: [...names], leader: ids[names[1]!]!, term: i === 0 ? 4 : 5, ids}]));
	const answer = answerOf(await clusterCheckAttempt(spec, await contextFor(plan, answers)));
	assert.deepEqual(answer.facts, {leader: names[1], term: 5, members: 3});
	assert.match(answer.detail, /^3 members, leader 1001, 3 of 3 answering$/);
	// Members without ids in the list: the leader is named by its id.
	const bare = answerOf(await clusterCheckAttempt(spec, await contextFor(plan, Object.fromEntries(names.map(n => [n, {clusterId: '42', members: [...names], leader: '7', term: 2}]))))).facts;
	assert.deepEqual(bare, {leader: '7', term: 2, members: 3});
});
