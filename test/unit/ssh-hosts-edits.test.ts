import {test} from 'node:test';
import assert from 'node:assert/strict';
import {cycleTarget, jumpText, setHostCell} from '../../source/model/ssh-hosts-edits.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {template} from '../helpers.js';

// The wizard's bastion cell: typed as [user@]host[:port], stored as nodes[].ssh.jump.

function hosts(): Profile {
	return cycleTarget(template());
}

function edited(profile: Profile | {message: string}): Profile {
	assert.ok(!('message' in profile), JSON.stringify(profile));
	return profile as Profile;
}

test('a bastion typed as user@host:port, host:port or host becomes nodes[].ssh.jump, and is shown the way it is typed', () => {
	let profile = edited(setHostCell(hosts(), 1, 'jump', ' admin@10.20.0.1:2200 '));
	assert.deepEqual(profile.nodes[1]!.ssh?.jump, {host: '10.20.0.1', port: 2200, user: 'admin'});
	assert.equal(profile.nodes[0]!.ssh?.jump, undefined, 'only that machine');
	assert.equal(jumpText(profile.nodes[1]!.ssh?.jump), 'admin@10.20.0.1:2200');
	profile = edited(setHostCell(profile, 1, 'jump', 'bastion.example'));
	assert.deepEqual(profile.nodes[1]!.ssh?.jump, {host: 'bastion.example', port: 22});
	assert.equal(jumpText(profile.nodes[1]!.ssh?.jump), 'bastion.example');
	profile = edited(setHostCell(profile, 1, 'jump', ''));
	assert.equal(profile.nodes[1]!.ssh?.jump, undefined, 'an empty cell: no bastion');
	assert.equal(jumpText(undefined), '');
});

test('a pinned bastion key is kept while the bastion stays the same machine, and dropped when it changes', () => {
	const base = edited(setHostCell(hosts(), 0, 'jump', 'admin@10.20.0.1'));
	base.nodes[0]!.ssh!.jump!.hostKey = 'SHA256:abc';
	const sameMachine = edited(setHostCell(base, 0, 'jump', 'ops@10.20.0.1:22'));
	assert.deepEqual(sameMachine.nodes[0]!.ssh?.jump, {host: '10.20.0.1', port: 22, user: 'ops', hostKey: 'SHA256:abc'});
	const other = edited(setHostCell(base, 0, 'jump', 'admin@10.20.0.2'));
	assert.deepEqual(other.nodes[0]!.ssh?.jump, {host: '10.20.0.2', port: 22, user: 'admin'});
});

test('what is not [user@]host[:port] is refused naming the field and the form, and changes nothing', () => {
	const profile = hosts();
	for (const bad of ['a@b@c', 'host:port', 'host:0', 'host:70000', 'two words', '@host']) {
		const result = setHostCell(profile, 2, 'jump', bad);
		assert.ok('message' in result, bad);
		assert.equal((result as {field?: string}).field, 'nodes[2].ssh.jump', bad);
		assert.match((result as {message: string}).message, new RegExp(`"${bad}" is not a bastion`));
		assert.match((result as {fix?: string}).fix ?? '', /\[user@\]host\[:port\]/);
	}
});
