// Issue 14, point 5: the nix build stage was only ever run against a stand-in `nix` script. Here it
// runs real Nix on a real local flake (no inputs, no nixpkgs, offline), and the T036 trap (a flake
// copies only the files git tracks) happens for real: the build fails with nix's own message, the
// tool names the file with the fix, and preflight (`doctor`) names it before any build.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {ensureNixNetboot} from '../../source/services/nix.js';
import {ProblemError} from '../../source/model/field-error.js';
import {buildPlan, type Plan} from '../../source/model/plan.js';
import {runPreflight} from '../../source/services/preflight.js';
import {skipUnless, tempDir, template} from '../helpers.js';
import {OFFLINE_NIX_ARGS, flakeText, gitAdd, makeFlake, nixTools, offlineNixEnv, removeTree} from '../nix-helpers.js';

describe('the nix build stage with real nix and a local flake', {skip: skipUnless(await nixTools())}, () => {
	const dir = tempDir('plasma-nix-real-');
	const flake = path.join(dir, 'flake');
	const env = {...process.env, ...offlineNixEnv(dir)};
	let plan: Plan;

	before(async () => {
		await fs.writeFile(path.join(dir, 'kernel-in'), 'a kernel\n');
		await fs.writeFile(path.join(dir, 'initrd-in'), 'an initrd\n');
		await makeFlake(flake, {kernel: path.join(dir, 'kernel-in'), initrd: path.join(dir, 'initrd-in')});
		const profile = template();
		profile.workDir = path.join(dir, 'work');
		profile.boot.image = 'nix';
		profile.boot.nixAttr = `${flake}#netboot`;
		profile.boot.nixBuildArgs = OFFLINE_NIX_ARGS;
		plan = buildPlan(profile, {clustersDir: dir, imageDir: path.join(dir, 'image'), home: dir});
	});

	after(() => removeTree(dir));

	test('builds the kernel and initrd, streaming nix\'s own log, with the offline options from the profile', async t => {
		assert.deepEqual(plan.stages.slice(0, 2), ['preflight', 'nix build']);
		assert.deepEqual(plan.boot.nixBuild?.extraArgs, OFFLINE_NIX_ARGS);
		const lines: string[] = [];
		const started = Date.now();
		const image = await ensureNixNetboot(plan.boot.nixBuild!, {env, onLine: line => lines.push(line)});
		t.diagnostic(`real nix build of the test flake: ${Date.now() - started} ms`);
		assert.equal(image.built, true);
		assert.equal(lines[0], `$ nix build ${flake}#netboot --out-link ${plan.boot.nixBuild!.outLink} --print-build-logs --extra-experimental-features nix-command flakes --option substituters '' --option build-users-group '' --option sandbox false`);
		// The builder's lines, prefixed by nix -L with the derivation's name, came through the callback.
		assert.ok(lines.includes('plasma-test-netboot> copying the kernel and initrd'), lines.join('\n'));
		assert.ok(lines.some(line => new RegExp(`^plasma-test-netboot> kernel and initrd in ${env.NIX_STORE_DIR}/[0-9a-z]{32}-plasma-test-netboot$`).test(line)), lines.join('\n'));
		assert.ok(image.outPath.startsWith(`${env.NIX_STORE_DIR}/`), image.outPath);
		assert.equal(readFileSync(plan.boot.kernel!, 'utf8'), 'a kernel\n');
		assert.equal(readFileSync(plan.boot.initrd!, 'utf8'), 'an initrd\n');
		const again = await ensureNixNetboot(plan.boot.nixBuild!, {env, onLine: () => undefined});
		assert.equal(again.built, false);
	});

	test('a file the flake reads but git does not track: preflight names it, the build fails with nix\'s message and the fix, git add mends it', async () => {
		await fs.writeFile(path.join(flake, 'flake.nix'), flakeText(['untracked.txt']));
		await fs.writeFile(path.join(flake, 'untracked.txt'), 'read by the builder\n');

		const before = await runPreflight(plan, {probeKvm: false, env});
		const warning = before.find(f => f.id === `flake:${flake}`);
		assert.equal(warning?.status, 'warn');
		assert.match(warning.message, /git does not track untracked\.txt; a flake build copies only tracked files/);
		assert.match(warning.fix!, /^git add it/);

		const lines: string[] = [];
		await assert.rejects(ensureNixNetboot(plan.boot.nixBuild!, {env, force: true, onLine: line => lines.push(line)}), (error: Error) => {
			assert.ok(error instanceof ProblemError);
			assert.match(error.problem.message, new RegExp(`^nix build ${flake}#netboot exited 1: the flake reads untracked\\.txt, which is not in the copy nix built from`));
			assert.match(error.problem.fix!, new RegExp(`^git add untracked\\.txt in the git tree of ${flake}`));
			return true;
		});
		// Nix's own words reached the log.
		assert.ok(lines.some(line => new RegExp(`getting status of '${env.NIX_STORE_DIR}/[0-9a-z]{32}-source/untracked\\.txt': No such file or directory`).test(line)), lines.join('\n'));

		await gitAdd(flake, 'untracked.txt');
		const mended = await ensureNixNetboot(plan.boot.nixBuild!, {env, force: true, onLine: line => lines.push(line)});
		assert.equal(mended.built, true);
		assert.ok(lines.includes('plasma-test-netboot> read by the builder'));
		const after = await runPreflight(plan, {probeKvm: false, env});
		assert.deepEqual(after.find(f => f.id === `flake:${flake}`), {id: `flake:${flake}`, status: 'ok', message: `flake ${flake}: no untracked files`});
	});
});
