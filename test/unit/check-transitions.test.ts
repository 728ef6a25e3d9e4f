import {test} from 'node:test';
import assert from 'node:assert/strict';
import {allGreen, checkTransitions, EMPTY_CHECK_MEMORY, type ObservedCheck} from '../../source/model/check-transitions.js';

const ok = (check: string, node?: string, facts?: ObservedCheck['facts']): ObservedCheck => ({check, node, status: 'ok', detail: 'fine', facts});
const failed = (check: string, node: string | undefined, reason: string): ObservedCheck => ({check, node, status: 'failed', reason});

test('the first round reports every check once; repeats of the same status report nothing', () => {
	const first = checkTransitions(EMPTY_CHECK_MEMORY, [ok('ssh', 'node01'), ok('ssh', 'node02'), ok('raft-quorum :2379')], 't1');
	assert.deepEqual(
		first.transitions.map(t => [t.node ?? 'cluster', t.check, t.from, t.to]),
		[
			['node01', 'ssh', undefined, 'ok'],
			['node02', 'ssh', undefined, 'ok'],
			['cluster', 'raft-quorum :2379', undefined, 'ok'],
		],
	);
	const again = checkTransitions(first.memory, [ok('ssh', 'node01'), ok('ssh', 'node02'), ok('raft-quorum :2379')], 't2');
	assert.deepEqual(again.transitions, []);
	assert.deepEqual(again.facts, []);
});

test('ok -> failed carries the reason and the time; a failure whose reason changes is not news; failed -> ok is', () => {
	let memory = checkTransitions(EMPTY_CHECK_MEMORY, [ok('ssh', 'node01'), ok('ssh', 'node02')], 't1').memory;
	const down = checkTransitions(memory, [ok('ssh', 'node01'), failed('ssh', 'node02', 'no SSH connection')], 't2');
	assert.deepEqual(down.transitions, [{check: 'ssh', node: 'node02', from: 'ok', to: 'failed', reason: 'no SSH connection', detail: undefined, at: 't2'}]);
	memory = down.memory;
	const still = checkTransitions(memory, [ok('ssh', 'node01'), failed('ssh', 'node02', 'connect ECONNREFUSED')], 't3');
	assert.deepEqual(still.transitions, []);
	const back = checkTransitions(still.memory, [ok('ssh', 'node01'), ok('ssh', 'node02')], 't4');
	assert.deepEqual(back.transitions.map(t => [t.node, t.from, t.to, t.reason, t.at]), [['node02', 'failed', 'ok', undefined, 't4']]);
	// The same check on two nodes is two checks; a node check and a cluster check of one name too.
	const cluster = checkTransitions(back.memory, [failed('ssh', undefined, 'x')], 't5');
	assert.deepEqual(cluster.transitions.map(t => [t.node, t.from, t.to]), [[undefined, undefined, 'failed']]);
});

test('facts are news when they change: a new leader and a new term, not the same leader again', () => {
	const q = 'raft-quorum :2379';
	const first = checkTransitions(EMPTY_CHECK_MEMORY, [ok(q, undefined, {leader: 'node01', term: 2, members: 3})], 't1');
	assert.deepEqual(
		first.facts.map(f => [f.fact, f.from, f.to, f.check]),
		[
			['leader', undefined, 'node01', q],
			['term', undefined, '2', q],
			['members', undefined, '3', q],
		],
	);
	assert.deepEqual(checkTransitions(first.memory, [ok(q, undefined, {leader: 'node01', term: 2, members: 3})], 't2').facts, []);
	const elected = checkTransitions(first.memory, [ok(q, undefined, {leader: 'node03', term: 3, members: 3})], 't3');
	assert.deepEqual(elected.facts.map(f => [f.fact, f.from, f.to, f.at]), [
		['leader', 'node01', 'node03', 't3'],
		['term', '2', '3', 't3'],
	]);
	// A failed round that learned nothing keeps the facts: the leader is not "forgotten".
	const lost = checkTransitions(elected.memory, [failed(q, undefined, 'no quorum')], 't4');
	assert.deepEqual(lost.facts, []);
	assert.deepEqual(checkTransitions(lost.memory, [ok(q, undefined, {leader: 'node03', term: 3, members: 3})], 't5').facts, []);
});

test('a round is green only when it has results and every one is ok', () => {
	assert.equal(allGreen([]), false);
	assert.equal(allGreen([ok('ssh', 'node01')]), true);
	assert.equal(allGreen([ok('ssh', 'node01'), {check: 'ssh', node: 'node02', status: 'not-run', reason: 'down'}]), false);
});
