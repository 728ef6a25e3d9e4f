import {test} from 'node:test';
import assert from 'node:assert/strict';
import {row} from '../../bench/result.js';

test('a bench goal written "< 3 s" is missed at exactly 3 s; one written "<= 1.0x" is met at 1.0', () => {
	// Seen in the snapshot bench: restore --no-rollback printed "3 s  < 3 s  met" for a restore of 3.00 s.
	assert.equal(row('g', 'r', 3, 's', {goal: {max: 3, text: '< 3 s'}}).status, 'missed');
	assert.equal(row('g', 'r', 2.99, 's', {goal: {max: 3, text: '< 3 s'}}).status, 'met');
	assert.equal(row('g', 'r', 1, 'x', {goal: {max: 1, text: '<= 1.0x'}}).status, 'met');
	assert.equal(row('g', 'r', 1.01, 'x', {goal: {max: 1, text: '<= 1.0x'}}).status, 'missed');
	assert.equal(row('g', 'r', null, 's', {goal: {max: 3, text: '< 3 s'}}).status, 'error');
});
