import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import {execa} from 'execa';
import {clusterCheckAttempt, nodeCheckAttempt, type CheckContext, type NodeAccess} from '../../source/services/checks/registry.js';
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

// A key-value member set as etcd's JSON gateway answers it; each call is logged as `api@node`.
async function kvContext(plan: Plan, down: string[] = []): Promise<{context: CheckContext; calls: string[]}> {
	for (const node of plan.nodes) {
		await fs.mkdir(node.secrets.dir, {recursive: true});
		for (const file of [node.secrets.ca, node.secrets.cert, node.secrets.key]) await fs.writeFile(file, 'pem');
	}
	const store = new Map<string, string>();
	const calls: string[] = [];
	const nodes = plan.nodes.map(node => ({
		node,
		ssh: {
			closed: false,
			async httpsRequest({path: api, body}: {path: string; body?: string}) {
				calls.push(`${api.replace('/v3/', '')}@${node.name}`);
				if (down.includes(node.name)) throw new Error('connect ECONNREFUSED');
				const request = JSON.parse(body ?? '{}') as {key?: string; value?: string};
				if (api === '/v3/kv/put') store.set(request.key!, request.value!);
				const value = store.get(request.key ?? '');
				const answer = api === '/v3/kv/range' ? {kvs: value === undefined ? [] : [{value}]} : api === '/v3/kv/deleterange' ? {deleted: store.delete(request.key!) ? '1' : '0'} : {};
				return {status: 200, headers: {}, body: JSON.stringify(answer)};
			},
		} as unknown as NodeSsh,
	}));
	return {context: {plan, nodes, timeoutMs: 2000}, calls};
}

test('crud writes on the first member that answers and reads and deletes on another, with no status round before', async () => {
	const home = tempDir();
	process.env['PLASMA_TUI_HOME'] = home;
	const plan = planIn(home, template());
	const spec = {type: 'crud', port: 2379, timeoutSec: 2} as const;
	const healthy = await kvContext(plan);
	assert.match(answerOf(await clusterCheckAttempt(spec, healthy.context)).detail, /^written on node01, read and deleted on node02$/);
	// One connection per call: after a restore each costs a cold guest a TLS handshake.
	assert.deepEqual(healthy.calls, ['kv/put@node01', 'kv/range@node02', 'kv/deleterange@node02']);

	const firstDown = await kvContext(plan, ['node01']);
	assert.match(answerOf(await clusterCheckAttempt(spec, firstDown.context)).detail, /^written on node02, read and deleted on node03$/);
	assert.deepEqual(firstDown.calls, ['kv/put@node01', 'kv/put@node02', 'kv/range@node03', 'kv/deleterange@node03'], 'a member that failed the write is not asked to read');

	const alone = await kvContext(plan, ['node01', 'node03']);
	assert.match(answerOf(await clusterCheckAttempt(spec, alone.context)).detail, /^written on node02, read and deleted on node02$/);

	await assert.rejects(clusterCheckAttempt(spec, (await kvContext(plan, ['node01', 'node02', 'node03'])).context), /no member took the write \(node01: connect ECONNREFUSED; node02: .*; node03: .*\)/);
});

test('persistence-across-restart reads its key back on the last member that answers, with no status round before', async () => {
	const home = tempDir();
	process.env['PLASMA_TUI_HOME'] = home;
	const plan = planIn(home, template());
	const spec = {type: 'persistence-across-restart', port: 2379, key: 'plasma-tui/persistence-across-restart', timeoutSec: 2} as const;
	const first = await kvContext(plan);
	assert.match(answerOf(await clusterCheckAttempt(spec, first.context)).detail, /written on node01; read back after the next stop and start/);
	assert.deepEqual(first.calls, ['kv/put@node01', 'kv/range@node03']);
	// The next run (same work directory, a new cluster process) finds the key written before.
	const again = await kvContext(plan, ['node03']);
	await assert.rejects(clusterCheckAttempt(spec, again.context), /reads as missing on node02: the data did not survive the restart/);
	assert.deepEqual(again.calls, ['kv/range@node03', 'kv/range@node02']);
});

// Nodes whose shell is this host's /bin/sh, with `getent` and `ping` stand-ins on PATH that know
// node01 by name, node02 only by ping (as busybox without NSS), and reach only 192.168.100.12.
async function shellNodes(plan: Plan): Promise<{nodes: NodeAccess[]; commands: string[]}> {
	const bin = tempDir();
	await fs.writeFile(`${bin}/getent`, '#!/bin/sh\n[ "$2" = node01 ] && echo "192.168.100.11   node01" && exit 0\nexit 2\n', {mode: 0o755});
	const ping = '#!/bin/sh\nfor a; do last=$a; done\ncase $last in node02|192.168.100.12) echo "PING $last (192.168.100.12): 56 data bytes"; exit 0;; esac\necho "ping: bad address \'$last\'" >&2; exit 1\n';
	await fs.writeFile(`${bin}/ping`, ping, {mode: 0o755});
	const commands: string[] = [];
	const nodes = plan.nodes.map(node => ({
		node,
		ssh: {
			closed: false,
			async exec(command: string) {
				commands.push(command);
				const result = await execa('sh', ['-c', command], {env: {PATH: `${bin}:${process.env['PATH']}`}, reject: false});
				return {code: result.exitCode ?? null, stdout: result.stdout, stderr: result.stderr};
			},
		} as unknown as NodeSsh,
	}));
	return {nodes, commands};
}

test('hosts-resolve asks the node once for every hostname and names each one it cannot resolve', async () => {
	const home = tempDir();
	process.env['PLASMA_TUI_HOME'] = home;
	const plan = planIn(home, template());
	const {nodes, commands} = await shellNodes(plan);
	// One command per node, not one per hostname: after a restore, each costs a cold guest a new session.
	await assert.rejects(nodeCheckAttempt({type: 'hosts-resolve', timeoutSec: 2}, nodes[0]!, {plan, nodes, timeoutMs: 2000}), /^.*does not resolve node03 \(ping: bad address 'node03'\)$/);
	assert.equal(commands.length, 1);
	const resolvable = {...plan, nodes: plan.nodes.slice(0, 2)};
	assert.equal(await nodeCheckAttempt({type: 'hosts-resolve', timeoutSec: 2}, nodes[0]!, {plan: resolvable, nodes, timeoutMs: 2000}), 'resolves all 2 hostnames');
});

test('l2-mesh pings every peer in one command and names each one it cannot reach', async () => {
	const home = tempDir();
	process.env['PLASMA_TUI_HOME'] = home;
	const plan = planIn(home, template());
	const {nodes, commands} = await shellNodes(plan);
	await assert.rejects(nodeCheckAttempt({type: 'l2-mesh', timeoutSec: 2}, nodes[0]!, {plan, nodes, timeoutMs: 2000}), /cannot reach node03 \(192\.168\.100\.13\) over the cluster network$/);
	assert.equal(commands.length, 1);
	assert.equal(await nodeCheckAttempt({type: 'l2-mesh', timeoutSec: 2}, nodes[0]!, {plan, nodes: nodes.slice(0, 2), timeoutMs: 2000}), 'reaches 1 peers (not tried: node03, not validated)');
});
