import {after, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {validateRunning} from '../../source/engine/validate-running.js';
import type {Report} from '../../source/engine/validation.js';
import type {RunEvent} from '../../source/model/events.js';
import {buildPlan} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {ensureKeyPair, fingerprintOfPublicKeyFile} from '../../source/services/ssh-keys.js';
import type {NodeSsh} from '../../source/services/ssh.js';
import {readState} from '../../source/services/state.js';
import {planIn, skipUnless, tempDir, template} from '../helpers.js';
import {freePort, sshdPrerequisites, startSshd, type LocalSshd} from '../local-sshd.js';

// The one engine function behind `up`'s validate stage and the `validate` command.

function cli(args: string[], home: string) {
	return execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', ...args], {env: {...process.env, PLASMA_TUI_HOME: home}, reject: false, all: true, timeout: 60_000});
}

// A profile of `count` demo nodes whose SSH ports are free (nothing listens) and whose work directory is in `home`.
async function profileIn(home: string, count: number, edit: (profile: Profile) => void = () => undefined) {
	const profile = template();
	profile.name = 'valtest';
	profile.workDir = path.join(home, 'valtest');
	profile.nodes = profile.nodes.slice(0, count);
	for (const node of profile.nodes) node.sshPort = await freePort();
	edit(profile);
	const plan = buildPlan(profile, {clustersDir: path.join(home, 'clusters'), imageDir: path.join(home, 'image'), home});
	assert.deepEqual(plan.problems, []);
	const file = path.join(home, 'valtest.json');
	await writeProfileFile(file, profile);
	await ensureKeyPair(plan.ssh.privateKey, plan.ssh.publicKey, 'plasma-test');
	// The node host keys `up` generated: validate expects them (ssh.hostKeyPolicy "generated").
	for (const node of plan.nodes) await ensureKeyPair(node.files.hostKey, node.files.hostKeyPub, `root@${node.hostname}`);
	return {profile, plan, file};
}

test('validate gives up on SSH after the profile\'s boot.sshTimeoutSec, names each node, and records it in the state file', async () => {
	const home = tempDir('plasma-validate-');
	const {plan, file} = await profileIn(home, 2, profile => (profile.boot.sshTimeoutSec = 2));
	const started = Date.now();
	const run = await cli(['validate', '--profile-file', file], home);
	const elapsed = Date.now() - started;
	assert.equal(run.exitCode, 3, run.all);
	assert.ok(elapsed < 14_000, `took ${elapsed} ms: the SSH wait is the profile's 2 s, not a fixed 15 s`);
	for (const node of plan.nodes) {
		assert.match(run.stdout, new RegExp(`^${node.name}: failed: not reachable over SSH: timed out after 2 s waiting for SSH on ${node.name} \\(127\\.0\\.0\\.1:${node.sshPort}\\)`, 'm'));
	}
	assert.match(run.stderr, /no node of "valtest" answers on SSH; is it up\?/);
	const state = await readState(plan.stateFile);
	for (const node of plan.nodes) {
		assert.equal(state?.nodes[node.name]?.phase, 'failed');
		assert.match(state?.nodes[node.name]?.reason ?? '', new RegExp(`timed out after 2 s waiting for SSH on ${node.name}`));
	}

	// --timeout caps the SSH wait too.
	const capped = await cli(['validate', '--profile-file', file, '--timeout', '1'], home);
	assert.equal(capped.exitCode, 3, capped.all);
	assert.match(capped.stdout, /^node01: failed: not reachable over SSH: timed out after 1 s waiting for SSH on node01/m);
	fs.rmSync(home, {recursive: true, force: true});
});

describe('validate against a node that answers (a local sshd)', {skip: skipUnless(await sshdPrerequisites())}, () => {
	const home = tempDir('plasma-validate-sshd-');
	let sshd: LocalSshd | undefined;
	after(async () => {
		await sshd?.stop();
		fs.rmSync(home, {recursive: true, force: true});
	});

	test('--only runs just the named checks, leaves the profile file as it was, and the state file ends healthy', async () => {
		const {plan, file} = await profileIn(home, 1, profile => {
			profile.checks = [
				{type: 'ssh', timeoutSec: 10},
				{type: 'command', name: 'marker', command: 'test -e /nonexistent/marker', expectExit: 0, timeoutSec: 1},
			];
		});
		// The node presents the key plasma-tui generated for it.
		const node = plan.nodes[0]!;
		sshd = await startSshd({port: node.sshPort, authorizedKeys: fs.readFileSync(plan.ssh.publicKey, 'utf8'), hostKey: {path: node.files.hostKey, fingerprint: await fingerprintOfPublicKeyFile(node.files.hostKeyPub)}});
		const profileBefore = fs.readFileSync(file, 'utf8');
		// The process must exit by itself: every session the engine opened is closed.
		const run = await cli(['validate', '--profile-file', file, '--only', 'ssh'], home);
		assert.equal(run.exitCode, 0, run.all);
		assert.match(run.stdout, /^node01: validating$/m);
		assert.match(run.stdout, /^node01: healthy$/m);
		const report = JSON.parse(fs.readFileSync(plan.report.json, 'utf8')) as Report;
		assert.deepEqual(
			report.results.map(r => [r.check, r.node, r.status]),
			[['ssh', 'node01', 'ok']],
		);
		assert.equal(fs.readFileSync(file, 'utf8'), profileBefore);
		assert.equal((await readState(plan.stateFile))?.nodes['node01']?.phase, 'healthy');

		// Without --only the failing check runs too: the node ends failed with the check's reason.
		const all = await cli(['validate', '--profile-file', file], home);
		assert.equal(all.exitCode, 1, all.all);
		const status = (await readState(plan.stateFile))?.nodes['node01'];
		assert.equal(status?.phase, 'failed');
		assert.match(status?.reason ?? '', /^marker: /);
	});
});

// A stand-in session that answers exec from a function and counts close() calls.
function fakeSsh(answer: (command: string) => number) {
	const session = {
		closed: false,
		closes: 0,
		async exec(command: string) {
			return {code: answer(command), stdout: '', stderr: 'missing'};
		},
		close() {
			session.closes++;
		},
	};
	return session;
}

test('validateRunning runs the checks it is given, never edits the profile, and leaves the caller\'s sessions open', async () => {
	const home = tempDir('plasma-validate-engine-');
	const profile = template();
	profile.checks = [
		{type: 'ssh', timeoutSec: 1},
		{type: 'command', name: 'marker', command: 'cat /marker', expectExit: 0, timeoutSec: 1},
	];
	const untouched = structuredClone(profile);
	const plan = planIn(home, profile);
	const sessions = new Map(plan.nodes.map(node => [node.name, fakeSsh(() => (node.name === 'node03' ? 1 : 0))]));
	const events: RunEvent[] = [];
	const {report, phases} = await validateRunning(profile, plan, {
		checks: profile.checks.filter(spec => spec.type === 'command'),
		sessions: sessions as unknown as Map<string, NodeSsh>,
		onEvent: event => events.push(event),
	});

	assert.deepEqual(profile, untouched);
	assert.deepEqual([...new Set(report?.results.map(r => r.check))], ['marker']);
	assert.deepEqual(phases, {node01: 'healthy', node02: 'healthy', node03: 'failed'});
	const phaseEvents = events.flatMap(e => (e.type === 'node-phase' ? [`${e.node} ${e.phase}`] : []));
	assert.deepEqual(phaseEvents, ['node01 validating', 'node02 validating', 'node03 validating', 'node01 healthy', 'node02 healthy', 'node03 failed']);
	const state = await readState(plan.stateFile);
	assert.equal(state?.nodes['node03']?.phase, 'failed');
	assert.match(state?.nodes['node03']?.reason ?? '', /^marker: .*exited 1, expected 0/);
	assert.ok([...sessions.values()].every(session => session.closes === 0), 'sessions the caller holds are the caller\'s to close');
	fs.rmSync(home, {recursive: true, force: true});
});
