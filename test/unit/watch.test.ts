import {after, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {buildPlan} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {ensureKeyPair, fingerprintOfPublicKeyFile} from '../../source/services/ssh-keys.js';
import {readTimeline} from '../../source/services/timeline.js';
import {acquireWorkLock} from '../../source/services/work-lock.js';
import {checksThatChangeNothing} from '../../source/services/checks/registry.js';
import {skipUnless, tempDir, template} from '../helpers.js';
import {freePort, sshdPrerequisites, startSshd, type LocalSshd} from '../local-sshd.js';

// `watch` against a node that answers (a local sshd) and one that never does
// (a port nobody listens on): transitions only, a bounded round, no lock.

const root = path.resolve(import.meta.dirname, '..', '..');

function cli(args: string[], home: string) {
	return execa(process.execPath, ['--import', 'tsx', path.join(root, 'source', 'cli.tsx'), ...args], {cwd: root, env: {...process.env, PLASMA_TUI_HOME: home}, reject: false, all: true, timeout: 90_000});
}

async function profileIn(home: string, marker: string) {
	const profile: Profile = template();
	profile.name = 'watchtest';
	profile.workDir = path.join(home, 'watchtest');
	profile.nodes = profile.nodes.slice(0, 2);
	for (const node of profile.nodes) node.sshPort = await freePort();
	profile.checks = [
		{type: 'ssh', timeoutSec: 10},
		{type: 'command', name: 'marker', command: `test -e ${marker}`, expectExit: 0, timeoutSec: 5},
		{type: 'persistence', port: 2379, restartCommand: 'true', timeoutSec: 5},
	];
	const plan = buildPlan(profile, {clustersDir: path.join(home, 'clusters'), imageDir: path.join(home, 'image'), home});
	assert.deepEqual(plan.problems, []);
	const file = path.join(home, 'watchtest.json');
	await writeProfileFile(file, profile);
	await ensureKeyPair(plan.ssh.privateKey, plan.ssh.publicKey, 'plasma-test');
	for (const node of plan.nodes) await ensureKeyPair(node.files.hostKey, node.files.hostKeyPub, `root@${node.hostname}`);
	return {profile, plan, file};
}

test('checks that change the node are left out of watch mode, with why', () => {
	const {checks, left} = checksThatChangeNothing([
		{type: 'ssh', timeoutSec: 1},
		{type: 'persistence', port: 2379, restartCommand: 'svc restart etcd', timeoutSec: 1},
	]);
	assert.deepEqual(checks.map(c => c.type), ['ssh']);
	assert.deepEqual(left, [{check: 'persistence :2379', why: 'it restarts the service on a member'}]);
});

test('watch refuses a bad --interval and an unknown --only check before it starts', async () => {
	const home = tempDir('plasma-watch-args-');
	const {file} = await profileIn(home, path.join(home, 'marker'));
	const bad = await cli(['watch', '--profile-file', file, '--interval', '0'], home);
	assert.equal(bad.exitCode, 2, bad.all);
	assert.match(bad.stderr, /--interval must be a positive number of seconds, got "0"/);
	const unknown = await cli(['watch', '--profile-file', file, '--only', 'nope'], home);
	assert.equal(unknown.exitCode, 2);
	assert.match(unknown.stderr, /--only: no check "nope" in "watchtest"/);
	fs.rmSync(home, {recursive: true, force: true});
});

describe('watch against a live node and a dead one', {skip: skipUnless(await sshdPrerequisites())}, () => {
	const home = tempDir('plasma-watch-');
	let sshd: LocalSshd | undefined;
	after(async () => {
		await sshd?.stop();
		fs.rmSync(home, {recursive: true, force: true});
	});

	test('prints first results, then only transitions with reasons; a dead node costs seconds per round; no lock; the timeline has it all', async () => {
		const marker = path.join(home, 'marker');
		const {plan, file} = await profileIn(home, marker);
		const node = plan.nodes[0]!;
		sshd = await startSshd({port: node.sshPort, authorizedKeys: fs.readFileSync(plan.ssh.publicKey, 'utf8'), hostKey: {path: node.files.hostKey, fingerprint: await fingerprintOfPublicKeyFile(node.files.hostKeyPub)}});

		const started = Date.now();
		const watching = cli(['watch', '--profile-file', file, '--interval', '1', '--for', '24'], home);
		let output = '';
		watching.all!.on('data', (chunk: Buffer) => (output += chunk.toString()));
		const waitFor = async (pattern: RegExp, what: string) => {
			const deadline = Date.now() + 30_000;
			while (!pattern.test(output)) {
				if (Date.now() > deadline) assert.fail(`no ${what} in:\n${output}`);
				await new Promise(resolve => setTimeout(resolve, 100));
			}
		};
		await waitFor(/round 1:/, 'first round');
		// Another command can take the work directory lock while watch runs.
		const lock = await acquireWorkLock(plan.lockFile, 'fault');
		await lock.release();
		fs.writeFileSync(marker, '');
		await waitFor(/node01 marker: failed -> ok/, 'the marker transition');
		fs.rmSync(marker);
		await waitFor(/node01 marker: ok -> failed/, 'the marker failing again');
		const result = await watching;
		const elapsed = Date.now() - started;
		output = result.all ?? output;

		assert.equal(result.exitCode, 1, output);
		assert.match(output, /^not watched: persistence :2379 \(it restarts the service on a member\)$/m);
		assert.match(output, /^\d\d:\d\d:\d\d node02 does not answer on SSH \(timed out after 10 s waiting for SSH on node02/m);
		assert.match(output, /^\d\d:\d\d:\d\d node01 ssh: ok /m);
		assert.match(output, /^\d\d:\d\d:\d\d node02 ssh: failed: node02 is not reachable over SSH$/m);
		assert.match(output, /^\d\d:\d\d:\d\d node01 marker: failed: .*exited 1, expected 0/m);
		assert.match(output, /^\d\d:\d\d:\d\d node01 marker: failed -> ok$/m);
		assert.match(output, /^\d\d:\d\d:\d\d node01 marker: ok -> failed: .*exited 1, expected 0/m);
		// Not a wall of repeats: node02's ssh failure is printed once, whatever the number of rounds.
		assert.equal(output.match(/node02 ssh: /g)?.length, 1, output);
		const rounds = Number(/after (\d+) rounds/.exec(output)?.[1]);
		assert.ok(rounds >= 3, `a dead node must not stall rounds: ${rounds} rounds in ${elapsed} ms\n${output}`);
		assert.ok(elapsed < 50_000, `--for 24 ended after ${elapsed} ms`);
		assert.equal(fs.existsSync(plan.lockFile), false, 'watch holds no lock');

		const {entries} = await readTimeline(plan.timelineFile);
		assert.equal(entries[0]?.kind, 'run');
		assert.equal(entries[0]?.detail, 'plasma-tui watch');
		const checks = entries.filter(e => e.kind === 'check').map(e => `${e.node} ${e.subject} ${e.from ?? '?'} -> ${e.to}`);
		assert.ok(checks.includes('node01 marker failed -> ok'), checks.join('\n'));
		assert.ok(checks.includes('node01 marker ok -> failed'), checks.join('\n'));
		assert.ok(entries.some(e => e.kind === 'fact' && e.subject === 'answers-ssh' && e.node === 'node02' && e.to === 'no'));

		const shown = await cli(['timeline', '--profile-file', file], home);
		assert.equal(shown.exitCode, 0, shown.all);
		assert.match(shown.stdout, /run: plasma-tui watch \(watchtest\)/);
		assert.match(shown.stdout, /^ {2}\+\d+\.\ds check marker on node01 failed -> ok$/m);
		const json = await cli(['timeline', '--profile-file', file, '--json'], home);
		assert.equal(json.stdout.trim().split('\n').length, entries.length);
	});

	test('ctrl-c stops a watch at once: the last round decides the exit code, and no session or connect keeps it alive', async () => {
		const file = path.join(home, 'watchtest.json');
		const watching = cli(['watch', '--profile-file', file, '--only', 'ssh', '--interval', '1'], home);
		let output = '';
		watching.all!.on('data', (chunk: Buffer) => (output += chunk.toString()));
		for (const deadline = Date.now() + 30_000; !/round 1:/.test(output); ) {
			if (Date.now() > deadline) assert.fail(`no first round in:\n${output}`);
			await new Promise(resolve => setTimeout(resolve, 100));
		}
		const stopping = Date.now();
		watching.kill('SIGINT');
		const result = await watching;
		assert.ok(Date.now() - stopping < 5_000, `took ${Date.now() - stopping} ms to stop`);
		// node02 never answers: the last round was not green.
		assert.equal(result.exitCode, 1, result.all);
		assert.match(result.stdout, /^watch stopped after \d+ rounds; last \d\d:\d\d:\d\d round \d+: 1 ok, 1 failed/m);
	});
});
