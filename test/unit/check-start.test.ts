import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mayStart, startWaitLine, type ArrivingNode, type ArrivalStatus} from '../../source/model/check-start.js';
import {CHECK_DEFINITIONS, startsWhen} from '../../source/services/checks/registry.js';

// The pipelining rule of up's validate stage: which check may start while other nodes still install.

const cluster = (...statuses: ArrivalStatus[]): ArrivingNode[] => statuses.map((status, index) => ({name: `n${index + 1}`, role: 'control-plane', status}));

test('a node check starts once its own node is installed, whatever the others do', () => {
	assert.deepEqual(mayStart('node', cluster('pending', 'ready', 'pending'), 'n1'), {start: false, waitingFor: ['n1']});
	assert.deepEqual(mayStart('node', cluster('ready', 'pending', 'pending'), 'n1'), {start: true});
	assert.deepEqual(mayStart('node', cluster('ready', 'out', 'pending'), 'n1'), {start: true});
});

test('a quorum check starts with a majority of the control planes installed, not before', () => {
	assert.deepEqual(mayStart('quorum', cluster('ready', 'pending', 'pending')), {start: false, waitingFor: ['n2', 'n3']});
	assert.deepEqual(mayStart('quorum', cluster('ready', 'pending', 'ready')), {start: true});
	// 5 members: 3 are a quorum.
	assert.equal(mayStart('quorum', cluster('ready', 'ready', 'pending', 'pending', 'pending')).start, false);
	assert.equal(mayStart('quorum', cluster('ready', 'ready', 'pending', 'ready', 'pending')).start, true);
	// Workers do not count towards the quorum.
	const mixed: ArrivingNode[] = [...cluster('ready', 'pending', 'pending'), {name: 'w1', role: 'worker', status: 'ready'}, {name: 'w2', role: 'worker', status: 'ready'}];
	assert.deepEqual(mayStart('quorum', mixed), {start: false, waitingFor: ['n2', 'n3']});
});

test('a quorum check does not wait for a majority that can no longer come: it starts and says why itself', () => {
	assert.deepEqual(mayStart('quorum', cluster('ready', 'out', 'out')), {start: true});
	assert.deepEqual(mayStart('quorum', cluster('out', 'out', 'pending')), {start: true});
	assert.deepEqual(mayStart('quorum', cluster('ready', 'out', 'pending')), {start: false, waitingFor: ['n3']});
});

test('a node check that needs a quorum waits for its own node too', () => {
	const nodes: ArrivingNode[] = [...cluster('ready', 'ready', 'pending'), {name: 'w1', role: 'worker', status: 'pending'}];
	assert.deepEqual(mayStart('quorum', nodes, 'w1'), {start: false, waitingFor: ['w1']});
	nodes[3]!.status = 'ready';
	assert.deepEqual(mayStart('quorum', nodes, 'w1'), {start: true});
});

test('an all check waits until every node is installed or out of the run', () => {
	assert.deepEqual(mayStart('all', cluster('ready', 'ready', 'pending'), 'n1'), {start: false, waitingFor: ['n3']});
	assert.deepEqual(mayStart('all', cluster('ready', 'ready', 'out'), 'n1'), {start: true});
	assert.deepEqual(mayStart('all', cluster('ready', 'ready', 'pending')), {start: false, waitingFor: ['n3']});
});

test('a cluster check that needs any node waits for the first one', () => {
	assert.deepEqual(mayStart('node', cluster('pending', 'pending')), {start: false, waitingFor: ['n1', 'n2']});
	assert.deepEqual(mayStart('node', cluster('pending', 'ready')), {start: true});
});

test('the registry says when each check type starts: node-local at once, CRUD with a quorum, member counts, restarts and l2-mesh with everyone', () => {
	const starts = Object.fromEntries(CHECK_DEFINITIONS.map(d => [d.type, startsWhen(d.schema.parse({type: d.type, ...d.example}))]));
	assert.equal(starts['ssh'], 'node');
	assert.equal(starts['tcp-port'], 'node');
	assert.equal(starts['tls'], 'node');
	// A member count or a service restart while a member still installs would report 2 of 3 or cost the quorum.
	assert.equal(starts['raft-quorum'], 'all');
	assert.equal(starts['persistence'], 'all');
	assert.equal(starts['persistence-across-restart'], 'all');
	assert.equal(starts['crud'], 'quorum');
	assert.equal(starts['proxy-crud'], 'quorum');
	assert.equal(starts['l2-mesh'], 'all');
});

test('the waiting line names the nodes', () => {
	assert.equal(startWaitLine('crud :2379', ['n2', 'n3']), 'waiting for crud :2379: starts once n2, n3 are installed');
	assert.equal(startWaitLine('l2-mesh', ['n3']), 'waiting for l2-mesh: starts once n3 is installed');
});
