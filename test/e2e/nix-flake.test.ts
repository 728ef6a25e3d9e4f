// Issue 14, points 4 (e) and 5 through the built CLI: `up` on a profile whose netboot image is a
// real local flake (no inputs, no nixpkgs) builds it with real Nix offline, streams the build log,
// and boots a node from what it built (the demo image's kernel and initrd, copied into the flake),
// which comes up with the management MAC the plan gave it. Then the T036 trap for real: a file the
// flake reads but git does not track; `doctor` names it before the build, `up` fails in the nix
// build stage with nix's message and the fix, and starts no VM.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import type {Plan} from '../../source/model/plan.js';
import {mgmtMacFor} from '../../source/model/mac.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {teardown} from '../../source/services/teardown.js';
import {skipUnless, tempDir} from '../helpers.js';
import {OFFLINE_NIX_ARGS, flakeText, makeFlake, nixTools, offlineNixEnv, removeTree} from '../nix-helpers.js';
import {demoProfileIn, processesOf, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = (await vmSkip()) || skipUnless(await nixTools());
const bin = path.resolve('dist/cli.js');
const home = tempDir('plasma-nixflake-');
const flake = path.join(home, 'flake');
const nixEnv = offlineNixEnv(home);
const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: sharedImageDir, ...nixEnv};
let plan: Plan;
let profileFile: string;

function cli(args: string[], timeout = 600_000) {
	return execa(process.execPath, [bin, ...args], {env, reject: false, timeout, all: true});
}

before(async () => {
	if (skip) return;
	await ensureDemoImage(sharedImageDir, {});
	await makeFlake(flake, {kernel: path.join(sharedImageDir, 'vmlinuz'), initrd: path.join(sharedImageDir, 'initrd.img')});
	({plan, profileFile} = await demoProfileIn(home, 'nixflake', profile => {
		profile.nodes = [{...profile.nodes[0]!, mac: '52:54:00:7e:00:01'}];
		profile.boot.image = 'nix';
		profile.boot.nixAttr = `${flake}#netboot`;
		profile.boot.nixBuildArgs = OFFLINE_NIX_ARGS;
		// The demo image prints it; only image: demo implies it.
		profile.boot.readyPattern = 'plasma-ready';
		profile.checks = [
			{type: 'ssh', timeoutSec: 30},
			// The guest sees its management NIC with the MAC the plan gave it.
			{type: 'command', name: 'management MAC', command: 'cat /sys/class/net/*/address', expectExit: 0, expectOutput: `(^|\\n)${mgmtMacFor('52:54:00:7e:00:01')}(\\n|$)`, timeoutSec: 30},
			{type: 'crud', port: 2379, timeoutSec: 60},
		];
	}));
	assert.equal(plan.nodes[0]!.mgmtMac, '5a:54:00:7e:00:01');
}, {timeout: 300_000});

after(async () => {
	if (!skip && plan) {
		await cli(['down', '--profile-file', profileFile], 120_000);
		await teardown(plan, {graceMs: 500}).catch(() => undefined);
	}
	await removeTree(home);
});

test('up builds the netboot image from a real local flake, streams its log, and boots a node from it', {timeout: 600_000, skip}, async t => {
	const node = plan.nodes[0]!;
	const doctor = await cli(['doctor', '--profile-file', profileFile], 120_000);
	assert.match(doctor.all ?? '', new RegExp(`ok +flake ${flake}: no untracked files`), doctor.all);

	const started = Date.now();
	const up = await cli(['up', '--profile-file', profileFile, '--yes']);
	t.diagnostic(`up with a real nix build, 1 node under TCG: ${Date.now() - started} ms`);
	const output = up.all ?? '';
	assert.equal(up.exitCode, 0, output);
	assert.match(output, /nix: \$ nix build .*#netboot --out-link .* --option substituters '' --option build-users-group '' --option sandbox false/);
	assert.match(output, /nix: plasma-test-netboot> copying the kernel and initrd/);
	// The node booted the kernel nix built: QEMU's -kernel is the plan's link into this test's store.
	const kernel = node.qemuArgs[node.qemuArgs.indexOf('-kernel') + 1]!;
	assert.equal(kernel, path.join(plan.workDir, 'netboot', 'kernel'));
	assert.match(fs.realpathSync(kernel), new RegExp(`^${nixEnv.NIX_STORE_DIR}/[0-9a-z]{32}-plasma-test-netboot/bzImage$`));
	assert.ok(fs.readFileSync(path.join(sharedImageDir, 'vmlinuz')).equals(fs.readFileSync(kernel)));
	assert.match(fs.readFileSync(node.runtime.consoleLog, 'utf8'), new RegExp(`plasma-ready ${node.hostname} `));
	assert.match(output, /node01: check management MAC: ok/);
	assert.match(output, /check crud :2379: ok/);

	const down = await cli(['down', '--profile-file', profileFile], 120_000);
	assert.equal(down.exitCode, 0, down.all);
	assert.deepEqual(await processesOf(plan), []);
});

test('a file the flake reads but git does not track: doctor names it, up fails in nix build with the fix and boots nothing', {timeout: 300_000, skip}, async () => {
	fs.writeFileSync(path.join(flake, 'flake.nix'), flakeText(['untracked.txt']));
	fs.writeFileSync(path.join(flake, 'untracked.txt'), 'read by the builder\n');
	// The image is built already: a forced rebuild is what a changed flake needs.
	fs.rmSync(path.join(plan.workDir, 'netboot'), {recursive: true, force: true});

	const doctor = await cli(['doctor', '--profile-file', profileFile], 120_000);
	assert.match(doctor.all ?? '', new RegExp(`warn +flake ${flake}: git does not track untracked\\.txt; .*\\(fix: git add it`), doctor.all);

	const up = await cli(['up', '--profile-file', profileFile, '--yes']);
	const output = up.all ?? '';
	assert.equal(up.exitCode, 1, output);
	assert.match(output, /getting status of '[^']*-source\/untracked\.txt': No such file or directory/);
	assert.match(output, new RegExp(`the flake reads untracked\\.txt, which is not in the copy nix built from .*\\(fix: git add untracked\\.txt in the git tree of ${flake}`));
	assert.deepEqual(await processesOf(plan), [], 'no switch, no QEMU');
});
