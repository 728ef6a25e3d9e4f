// Issue 9, point 1. On main before this, every start and stop of the switch removed
// network.vdeSocket recursively, whatever it pointed at.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {stopSwitch} from '../../source/services/vde.js';
import {planIn, tempDir, template} from '../helpers.js';

test('a vdeSocket that points at a folder of files is refused and left in place', async () => {
	const dir = tempDir();
	const folder = path.join(dir, 'mine');
	mkdirSync(folder);
	writeFileSync(path.join(folder, 'notes.txt'), 'keep\n');
	const profile = template();
	profile.network.vdeSocket = folder;
	await assert.rejects(stopSwitch(planIn(dir, profile)), new RegExp(`${folder} is not a VDE switch socket of a stopped VDE switch: left in place`));
	assert.equal(readFileSync(path.join(folder, 'notes.txt'), 'utf8'), 'keep\n');
});

test('a regular file at the management socket path is not removed', async () => {
	const dir = tempDir();
	const plan = planIn(dir);
	mkdirSync(path.dirname(plan.vde.mgmt), {recursive: true});
	writeFileSync(plan.vde.mgmt, 'not a socket\n');
	await assert.rejects(stopSwitch(plan), /mgmt\.sock is not a socket of a stopped VDE switch/);
	assert.equal(readFileSync(plan.vde.mgmt, 'utf8'), 'not a socket\n');
});
