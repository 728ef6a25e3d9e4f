import {test} from 'node:test';
import assert from 'node:assert/strict';
import {freeProfileName, saveConflict} from '../../source/model/profile-name.js';
import {validateProfile} from '../../source/model/profile-rules.js';
import {template} from '../helpers.js';

// Issue 10, point 3: a profile started from a template gets a name of its own, and a save that would
// replace another saved profile or hide a template is named so the wizard can ask first.
test('a template\'s profile is named NAME-2, or the first free one among saved profiles and templates, within 63 characters', () => {
	assert.equal(freeProfileName('demo', ['demo', 'plasmacloud-3node']), 'demo-2');
	assert.equal(freeProfileName('demo', ['demo', 'demo-2', 'demo-3', 'lab']), 'demo-4');
	const long = 'a'.repeat(63);
	const name = freeProfileName(long, [long, `${'a'.repeat(61)}-2`]);
	assert.equal(name, `${'a'.repeat(61)}-3`);
	assert.deepEqual(validateProfile({...template(), name}).filter(e => e.field === 'name'), []);
});

test('saving replaces another saved profile or hides a template; saving a profile under its own saved name does neither', () => {
	const saved = ['demo', 'lab'];
	const templates = ['demo', 'plasmacloud-3node'];
	assert.deepEqual(saveConflict('lab', undefined, saved, templates), {kind: 'replaces-saved', name: 'lab'});
	assert.equal(saveConflict('lab', 'lab', saved, templates), undefined);
	assert.deepEqual(saveConflict('plasmacloud-3node', undefined, saved, templates), {kind: 'shadows-template', name: 'plasmacloud-3node'});
	// Loaded from the saved demo that already shadows the template: saving it again changes nothing of that.
	assert.equal(saveConflict('demo', 'demo', saved, templates), undefined);
	assert.equal(saveConflict('demo-2', undefined, saved, templates), undefined);
});
