// Issue 10 point 6 (doctor on a custom image) and issue 15 (boot.failPattern), with real VMs:
// the demo image's kernel and initrd copied elsewhere and given as a custom image.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {buildPlan, workDirFor} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {doctorWorkDir} from '../../source/model/guest-check.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {liveEntries, readState} from '../../source/services/state.js';
import {tempDir, template} from '../helpers.js';
import {processesOf, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = await vmSkip();
const bin = path.resolve('dist/cli.js');
const home = tempDir('plasma-doctor-');
const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: sharedImageDir};
const customDir = path.join(home, 'my-image');

function cli(args: string[], timeout = 600_000) {
	return execa(process.execPath, [bin, ...args], {env, reject: false, timeout});
}

async function customProfile(name: string, edit: (profile: Profile) => void = () => undefined): Promise<{file: string; profile: Profile}> {
	const profile = template('demo');
	profile.name = name;
	profile.workDir = path.join(home, name);
	profile.boot = {...profile.boot, image: 'custom', kernel: path.join(customDir, 'vmlinuz'), initrd: path.join(customDir, 'initrd.img'), readyPattern: 'plasma-ready'};
	edit(profile);
	const file = path.join(home, `${name}.json`);
	await writeProfileFile(file, profile);
	return {file, profile};
}

// Nothing of the doctor's boot may be left: no QEMU or switch with its work directory in argv, no live state entry.
async function assertNothingLeft(profile: Profile): Promise<string> {
	const context = {clustersDir: path.join(home, 'clusters'), imageDir: sharedImageDir, home};
	const workDir = doctorWorkDir(workDirFor(profile, context));
	const plan = {...buildPlan(profile, context), workDir};
	assert.deepEqual(await processesOf(plan), []);
	const state = await readState(path.join(workDir, 'state.json')).catch(() => undefined);
	assert.deepEqual(await liveEntries(state), []);
	return workDir;
}

before(async () => {
	if (skip) return;
	await ensureDemoImage(sharedImageDir, {});
	fs.mkdirSync(customDir, {recursive: true});
	fs.copyFileSync(path.join(sharedImageDir, 'vmlinuz'), path.join(customDir, 'vmlinuz'));
	fs.copyFileSync(path.join(sharedImageDir, 'initrd.img'), path.join(customDir, 'initrd.img'));
});

after(async () => {
	// The doctor stops what it started itself; this only catches a failed test's leftovers.
	for (const name of ['good', 'silent', 'fails']) {
		const workDir = path.join(home, name, 'doctor');
		for (const p of await processesOf({workDir} as never)) {
			try {
				process.kill(p.pid, 'SIGKILL');
			} catch {
				// gone
			}
		}
	}
	fs.rmSync(home, {recursive: true, force: true});
});

test('doctor on a custom image boots two nodes and reports every part of the guest contract met', {timeout: 900_000, skip}, async () => {
	const {file, profile} = await customProfile('good');
	const result = await cli(['doctor', '--profile-file', file, '--timeout', '300']);
	const out = result.stdout;
	assert.equal(result.exitCode, 0, `${out}\n${result.stderr.slice(-3000)}`);
	// The quoted console line may start with the shell's prompt, printed on the serial console just before it.
	assert.match(out, /^ok +ready line on the console: "(\/ # )?plasma-ready node01 192\.168\.100\.11( boot=netboot)?" matched \/plasma-ready\//m);
	assert.match(out, /^ok +SSH answered on the forwarded port: answered on 127\.0\.0\.1:\d+/m);
	assert.match(out, /^ok +host key from fw_cfg served: presented SHA256:\S+, the key handed over by fw_cfg/m);
	assert.match(out, /^ok +authorized key from fw_cfg accepted: root logged in with /m);
	assert.match(out, /^ok +cluster IP reachable from a second node: node01 reached node02 at 192\.168\.100\.12/m);
	assert.match(out, /^guest contract met$/m);
	const workDir = await assertNothingLeft(profile);
	assert.equal(fs.existsSync(workDir), false, 'a met contract leaves no work directory behind');
});

test('a ready line that never comes: "not seen within N s", exit 1, nothing left running', {timeout: 600_000, skip}, async () => {
	const {file, profile} = await customProfile('silent', p => {
		p.boot.readyPattern = 'this-line-is-never-printed';
		p.nodes = p.nodes.slice(0, 1);
	});
	const started = Date.now();
	const result = await cli(['doctor', '--profile-file', file, '--timeout', '15']);
	assert.equal(result.exitCode, 1, result.stdout);
	assert.match(result.stdout, /^failed +ready line on the console: no "this-line-is-never-printed" line on the console within 15 s; last line: /m);
	assert.match(result.stdout, /^skip +SSH answered on the forwarded port: not tried: node01 failed/m);
	assert.match(result.stdout, /^skip +cluster IP reachable from a second node: the profile has one node/m);
	assert.match(result.stdout, /^guest contract not met; console logs: .*node01\/console\.log$/m);
	assert.ok(Date.now() - started < 120_000, `took ${Date.now() - started} ms`);
	await assertNothingLeft(profile);
});

// Issue 15: the console's fail line ends the wait at once (here a line every boot prints, so the test does not
// need a broken image), with the line as the reason, long before the 240 s timeout.
test('boot.failPattern: a matching console line fails the node at once with that line', {timeout: 600_000, skip}, async () => {
	const {file, profile} = await customProfile('fails', p => {
		p.boot.failPattern = 'Linux version';
		p.nodes = p.nodes.slice(0, 1);
	});
	const started = Date.now();
	const result = await cli(['doctor', '--profile-file', file, '--timeout', '240']);
	const tookMs = Date.now() - started;
	assert.equal(result.exitCode, 1, result.stdout);
	assert.match(result.stdout, /^failed +ready line on the console: the console said: \[ *[\d.]+\] Linux version \d/m);
	assert.ok(tookMs < 90_000, `the wait ended with the console line, not the 240 s timeout (${tookMs} ms)`);
	await assertNothingLeft(profile);
});
