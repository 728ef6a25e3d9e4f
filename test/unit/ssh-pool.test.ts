import {test} from 'node:test';
import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import {SshPool} from '../../source/services/ssh-pool.js';
import type {NodeSsh} from '../../source/services/ssh.js';

// One handshake per node, whoever asks and however often; a closed session is replaced.

function fakeSession(): NodeSsh & {closes: number} {
	const session = {
		closed: false,
		closes: 0,
		close() {
			session.closed = true;
			session.closes++;
		},
	};
	return session as unknown as NodeSsh & {closes: number};
}

test('callers share one session per node, opened by one handshake even when they ask at once', async () => {
	const handshakes: string[] = [];
	const pool = new SshPool<{name: string}>(async node => {
		handshakes.push(node.name);
		await sleep(20);
		return fakeSession();
	});
	const n1 = {name: 'n1'};
	const [a, b] = await Promise.all([pool.session(n1), pool.session(n1)]);
	assert.equal(a, b);
	assert.equal(await pool.session(n1), a);
	await pool.session({name: 'n2'});
	assert.deepEqual(handshakes, ['n1', 'n2']);
	assert.deepEqual([...pool.sessions().keys()], ['n1', 'n2']);

	// A broken session is replaced on the next ask.
	a.close();
	const again = await pool.session(n1);
	assert.notEqual(again, a);
	assert.deepEqual(handshakes, ['n1', 'n2', 'n1']);
	pool.close();
	assert.equal(again.closed, true);
});

test('an adopted session is used, never closed by the pool; a failed handshake is tried again on the next ask', async () => {
	let fail = true;
	const pool = new SshPool<{name: string}>(async () => {
		if (fail) throw new Error('connection refused');
		return fakeSession();
	});
	const held = fakeSession();
	pool.adopt('n1', held);
	assert.equal(await pool.session({name: 'n1'}), held);
	await assert.rejects(pool.session({name: 'n2'}), /connection refused/);
	fail = false;
	const n2 = await pool.session({name: 'n2'});
	pool.close();
	assert.equal(held.closes, 0);
	assert.equal(n2.closed, true);
});
