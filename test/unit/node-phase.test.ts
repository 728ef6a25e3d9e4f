import {test} from 'node:test';
import assert from 'node:assert/strict';
import {NODE_PHASES, nextPhase, type NodePhase} from '../../source/model/node-phase.js';

// Rows: the current phase; columns in NODE_PHASES order; 'x' is a legal step.
//   pending booting console ssh-ready installing installed validating healthy failed
const TABLE: Record<NodePhase, string> = {
	pending: '   .  x  .  .  .  .  x  .  x',
	booting: '   .  .  x  x  .  .  .  .  x',
	console: '   .  .  .  x  .  .  .  .  x',
	'ssh-ready': ' .  .  .  .  x  x  x  .  x',
	installing: '  .  .  .  .  x  x  .  .  x',
	installed: '   .  .  .  .  .  .  x  .  x',
	validating: '  .  .  .  .  .  .  x  x  x',
	healthy: '     .  .  .  .  .  .  x  .  x',
	failed: '      .  x  .  .  .  .  x  .  .',
};

for (const current of NODE_PHASES) {
	test(`from ${current}: exactly the steps of the table are taken`, () => {
		const marks = TABLE[current].trim().split(/\s+/);
		assert.equal(marks.length, NODE_PHASES.length);
		NODE_PHASES.forEach((requested, index) => {
			const step = nextPhase(current, requested);
			const legal = marks[index] === 'x';
			assert.equal(step.ok, legal, `${current} -> ${requested}`);
			if (step.ok) assert.equal(step.phase, requested);
			else assert.ok(step.why.length > 0);
		});
	});
}

test('a refused step says why', () => {
	assert.deepEqual(nextPhase('failed', 'ssh-ready'), {ok: false, why: 'ssh-ready cannot follow failed'});
	assert.deepEqual(nextPhase('failed', 'failed'), {ok: false, why: 'already failed'});
	assert.deepEqual(nextPhase('installing', 'installing'), {ok: true, phase: 'installing'});
});
