import {test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {NodePhases} from '../../source/engine/node-phases.js';
import type {RunEvent} from '../../source/model/events.js';
import {readState, StateStore} from '../../source/services/state.js';
import {tempDir} from '../helpers.js';

test('a legal step is emitted and written to the state file; a refused one changes nothing', async () => {
	const dir = tempDir('plasma-phases-');
	const file = path.join(dir, 'state.json');
	const events: RunEvent[] = [];
	const phases = new NodePhases(['node01', 'node02'], event => events.push(event), await StateStore.open(file, 'demo', dir));
	assert.deepEqual(phases.current, {node01: 'pending', node02: 'pending'});
	assert.equal(await phases.set('node01', 'booting'), true);
	assert.equal(await phases.set('node01', 'failed', 'QEMU exited (code 1)'), true);
	// A late SSH answer and a second failure do not overwrite the first reason.
	assert.equal(await phases.set('node01', 'ssh-ready'), false);
	assert.equal(await phases.set('node01', 'failed', 'ssh timed out'), false);
	assert.equal(await phases.set('node02', 'installed'), false);
	assert.deepEqual(
		events.map(e => (e.type === 'node-phase' ? `${e.node} ${e.phase}${e.reason ? `: ${e.reason}` : ''}` : e.type)),
		['node01 booting', 'node01 failed: QEMU exited (code 1)'],
	);
	assert.deepEqual(phases.current, {node01: 'failed', node02: 'pending'});
	const state = await readState(file);
	assert.equal(state?.nodes['node01']?.phase, 'failed');
	assert.equal(state?.nodes['node01']?.reason, 'QEMU exited (code 1)');
	assert.equal(state?.nodes['node02'], undefined);
	// Started again: failed may go back to booting.
	assert.equal(await phases.set('node01', 'booting', 'restart'), true);
	assert.equal(phases.of('node01'), 'booting');
});
