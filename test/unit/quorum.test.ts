import {test} from 'node:test';
import assert from 'node:assert/strict';
import {quorumVerdict, quorumNeeded} from '../../source/model/quorum.js';

test('quorum needs a strict majority of the members', () => {
	assert.deepEqual([1, 2, 3, 4, 5].map(quorumNeeded), [1, 2, 2, 3, 3]);
});

test('stopping one of three keeps quorum; a second one loses it', () => {
	const one = quorumVerdict({members: ['node01', 'node02', 'node03'], alreadyDown: [], takes: ['node02'], verb: 'stopping'});
	assert.equal(one.losesQuorum, false);
	assert.equal(one.message, 'stopping node02 leaves 2 of 3 members: quorum holds (needs 2)');
	const two = quorumVerdict({members: ['node01', 'node02', 'node03'], alreadyDown: ['node01'], takes: ['node02'], verb: 'stopping'});
	assert.equal(two.losesQuorum, true);
	assert.equal(two.message, 'stopping node02 leaves 1 of 3 members: the cluster loses quorum (needs 2)');
});

test('a worker is not a voter; a member already down is not counted twice', () => {
	const worker = quorumVerdict({members: ['a', 'b', 'c'], alreadyDown: [], takes: ['w1'], verb: 'killing'});
	assert.equal(worker.losesQuorum, false);
	assert.equal(worker.upAfter, 3);
	const again = quorumVerdict({members: ['a', 'b', 'c'], alreadyDown: ['a'], takes: ['a'], verb: 'killing'});
	assert.equal(again.upAfter, 2);
	assert.equal(again.losesQuorum, false);
});

test('a partition that takes two of five from the majority side still holds; three do not', () => {
	const members = ['n1', 'n2', 'n3', 'n4', 'n5'];
	assert.equal(quorumVerdict({members, alreadyDown: [], takes: ['n4', 'n5'], verb: 'isolating'}).losesQuorum, false);
	assert.equal(quorumVerdict({members, alreadyDown: [], takes: ['n3', 'n4', 'n5'], verb: 'isolating'}).losesQuorum, true);
});

test('quorum already gone is said as such, not as a loss', () => {
	const verdict = quorumVerdict({members: ['a', 'b', 'c'], alreadyDown: ['a', 'b'], takes: ['c'], verb: 'stopping'});
	assert.equal(verdict.alreadyLost, true);
	assert.equal(verdict.losesQuorum, false);
	assert.match(verdict.message, /already has no quorum/);
});
