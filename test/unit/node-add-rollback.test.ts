import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {addNode} from '../../source/engine/node-membership.js';
import {isProblem, recovery, withAddedNode} from '../../source/model/node-membership.js';
import type {Profile} from '../../source/model/profile-schema.js';
import type {RunEvent} from '../../source/model/events.js';
import {readState, StateStore} from '../../source/services/state.js';
import {readTimeline} from '../../source/services/timeline.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {planIn, template, tempDir} from '../helpers.js';

// node add that fails is rolled back (profile as before, its files gone, no change left on record);
// one interrupted by Ctrl-C stops at the next safe point and leaves the record that status shows.
// No VMs: the step that fails (or is interrupted) is the first, writing the profile.

function clusterIn(dir: string) {
	const profile = template('demo');
	profile.workDir = path.join(dir, 'w');
	const before = {profile, plan: planIn(dir, profile)};
	const added = withAddedNode(profile, 'worker');
	assert.ok(!isProblem(added));
	return {before, after: {profile: added.profile, plan: planIn(dir, added.profile)}, name: added.node};
}

test('a node add whose step fails is rolled back: the profile is written back, its files go, the state file has no change left', {timeout: 30_000}, async () => {
	const dir = tempDir('plasma-add-rollback-');
	try {
		const {before, after, name} = clusterIn(dir);
		await StateStore.open(before.plan.stateFile, before.profile.name, before.plan.workDir);
		const saved: Profile[] = [];
		const events: RunEvent[] = [];
		const saveProfile = async (profile: Profile) => {
			saved.push(profile);
			if (saved.length === 1) throw new Error('disk full while writing the profile');
			return 'the profile file';
		};
		fs.mkdirSync(after.plan.nodes.at(-1)!.dir, {recursive: true});
		await assert.rejects(addNode(before, after, name, {onEvent: event => events.push(event), saveProfile, validate: false}), (error: Error) => {
			assert.match(error.message, /node04 was not added \(step "profile": disk full while writing the profile\); rolled back: stop its VM, profile, files/);
			return true;
		});
		assert.equal(saved.length, 2);
		assert.equal(saved[1], before.profile, 'the profile from before the add is written back');
		assert.equal(fs.existsSync(after.plan.nodes.at(-1)!.dir), false, 'the new node directory is gone');
		const state = (await readState(before.plan.stateFile))!;
		assert.equal(state.membership, undefined);
		assert.equal(state.nodes[name], undefined);
		const logs = events.flatMap(event => (event.type === 'log' ? [event.message] : []));
		assert.ok(logs.some(line => /node add failed at "profile": .*rolling back/.test(line)), logs.join('\n'));
		const {entries} = await readTimeline(before.plan.timelineFile);
		assert.ok(entries.some(entry => /node add failed at "profile" and was rolled back/.test(entry.detail ?? '')));
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('Ctrl-C during node add stops at the next safe point and leaves the step on record, with its recovery', {timeout: 30_000}, async () => {
	const dir = tempDir('plasma-add-interrupt-');
	try {
		const {before, after, name} = clusterIn(dir);
		await StateStore.open(before.plan.stateFile, before.profile.name, before.plan.workDir);
		const controller = new AbortController();
		const saveProfile = async () => {
			controller.abort(new Error('interrupted'));
			return 'the profile file';
		};
		await assert.rejects(addNode(before, after, name, {onEvent: () => undefined, saveProfile, signal: controller.signal, validate: false}), /interrupted before step "certificates"/);
		const state = (await readState(before.plan.stateFile))!;
		assert.equal(state.membership?.step, 'profile: interrupted');
		assert.match(recovery(state.membership!), /node add node04 stopped at step "profile: interrupted" .*undo it with "plasma-tui node remove node04 --force"/);
		assert.equal(fs.existsSync(after.plan.nodes.at(-1)!.dir), false, 'no certificate was issued for it');
		// status names it, with what to run next.
		const file = path.join(dir, 'profile.json');
		await writeProfileFile(file, after.profile);
		const status = await execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'status', '--profile-file', file], {env: {...process.env, PLASMA_TUI_HOME: dir}, reject: false, all: true, timeout: 60_000});
		assert.match(status.all ?? '', /^unfinished: node add node04 stopped at step "profile: interrupted" .*plasma-tui node remove node04 --force/m, status.all);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
