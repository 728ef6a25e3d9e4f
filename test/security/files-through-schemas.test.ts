// Issue 9, point 7. On main before this: an empty kvm-probe.json made `doctor` (and every `up`)
// die with "plasma-tui: Unexpected end of JSON input" and no path; a state.json of the wrong
// shape (`[]`) made `status` die with "Cannot read properties of undefined (reading 'node01')"
// and `down` with "Cannot convert undefined or null to object"; a pins file of the wrong shape
// read as "nothing pinned"; a broken image stamp was rebuilt without a word.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {ProblemError} from '../../source/model/field-error.js';
import {runPreflight} from '../../source/services/preflight.js';
import {readState, StateStore} from '../../source/services/state.js';
import {pinnedKeyFor} from '../../source/services/ssh.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {planIn, tempDir, template} from '../helpers.js';

function cli(args: string[], env: NodeJS.ProcessEnv) {
	return spawnSync(process.execPath, ['--import', 'tsx', 'source/cli.tsx', ...args], {encoding: 'utf8', env: {...process.env, ...env}, timeout: 60_000});
}

const bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

test('doctor with an empty or corrupt KVM probe cache names the file, probes again and still reports', () => {
	for (const content of ['', JSON.stringify({bootId, usable: 'yes', why: 3})]) {
		const home = tempDir('plasma-kvm-cache-');
		const cache = path.join(home, 'kvm-probe.json');
		fs.writeFileSync(cache, content);
		// The probe needs no kernel (its firmware is built in code): the bad file is probed over and rewritten.
		const result = cli(['doctor'], {PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: path.join(home, 'no-image')});
		const output = `${result.stdout}\n${result.stderr}`;
		assert.doesNotMatch(output, /Unexpected end of JSON input|TypeError|Cannot read properties/, output);
		assert.match(result.stdout, new RegExp(`warn KVM probe cache ${cache} (is empty|is not valid JSON|does not have the expected shape).*: probed again and rewrote it`), output);
		assert.match(result.stdout, /\n(ok|warn|fail) +(TCG|KVM)/, 'the accelerator finding is still there');
		assert.match(result.stdout, /no earlier run/, 'the findings after it are still there');
		assert.ok(result.status === 0 || result.status === 1, `doctor exited ${result.status}`);
		assert.equal(JSON.parse(fs.readFileSync(cache, 'utf8')).bootId, bootId);
		fs.rmSync(home, {recursive: true, force: true});
	}
});

test('preflight with a corrupt KVM probe cache and a kernel probes again and rewrites the cache', async () => {
	const home = tempDir('plasma-kvm-cache-');
	const bin = path.join(home, 'bin');
	fs.mkdirSync(bin);
	// A stand-in QEMU that fails like an unusable KVM does.
	fs.writeFileSync(path.join(bin, 'qemu-system-x86_64'), '#!/bin/sh\necho "qemu-system-x86_64: failed to initialize kvm: Permission denied" >&2\nexit 1\n', {mode: 0o755});
	const profile = template();
	profile.boot = {...profile.boot, image: 'custom', kernel: path.join(home, 'vmlinuz'), initrd: path.join(home, 'initrd')};
	fs.writeFileSync(path.join(home, 'vmlinuz'), 'not a kernel');
	fs.writeFileSync(path.join(home, 'initrd'), '');
	const plan = planIn(home, profile);
	fs.writeFileSync(plan.kvmProbeCache, '{"bootId": ');
	const findings = await runPreflight(plan, {env: {...process.env, PATH: `${bin}:${process.env['PATH']}`}});
	const warning = findings.find(f => f.id === 'cache:kvm-probe');
	assert.equal(warning?.status, 'warn');
	assert.match(warning.message, new RegExp(`^KVM probe cache ${plan.kvmProbeCache} is not valid JSON \\(.+\\): probed again and rewrote it$`));
	assert.match(findings.find(f => f.id === 'accel')?.message ?? '', /^TCG: /);
	const rewritten = JSON.parse(fs.readFileSync(plan.kvmProbeCache, 'utf8'));
	assert.equal(rewritten.bootId, bootId);
	assert.equal(rewritten.usable, false);
	// The next run reads the verdict back, without a warning.
	const again = await runPreflight(plan, {env: {...process.env, PATH: `${bin}:${process.env['PATH']}`}});
	assert.equal(again.some(f => f.id === 'cache:kvm-probe'), false);
	assert.match(again.find(f => f.id === 'accel')?.message ?? '', /probed earlier since this boot/);
	fs.rmSync(home, {recursive: true, force: true});
});

const BAD_STATES: Array<[string, RegExp]> = [
	['', /is empty/],
	['{"version": 1, "prof', /is not valid JSON/],
	['[]', /does not have the expected shape \(Invalid input: expected object, received array\)/],
	[JSON.stringify({version: 1, profile: 'demo', workDir: '/x', processes: [{kind: 'qemu', pid: 'one'}], nodes: {}, updatedAt: 'now'}), /does not have the expected shape \(processes\[0\]\.pid: /],
	[JSON.stringify({version: 1, profile: 'demo', workDir: '/x', processes: [], nodes: {node01: {phase: 'flying', since: 'now'}}, updatedAt: 'now'}), /does not have the expected shape \(nodes\.node01\.phase: /],
];

test('status and down name a corrupt or wrong-shaped state file with its path and the fix, and leave it byte for byte', () => {
	for (const [index, [content, why]] of [BAD_STATES[1]!, BAD_STATES[2]!, BAD_STATES[3]!].entries()) {
		const home = tempDir('plasma-bad-state-');
		const file = path.join(home, 'clusters', 'demo', 'state.json');
		fs.mkdirSync(path.dirname(file), {recursive: true});
		fs.writeFileSync(file, content);
		const expected = new RegExp(`state file ${file} ${why.source}.*; it was left as it is \\(fix: move it away, e\\.g\\. mv ${file} ${file}\\.bad; "plasma-tui down" still finds the nodes by their pidfiles`);
		const status = cli(['status'], {PLASMA_TUI_HOME: home});
		assert.equal(status.status, 1, `status: ${status.stderr}`);
		assert.match(status.stderr, new RegExp(`^plasma-tui status: ${expected.source}`), status.stderr);
		const down = cli(['down'], {PLASMA_TUI_HOME: home});
		assert.equal(down.status, 1, `down: ${down.stderr}`);
		assert.match(down.stdout, /nothing of "demo" was running/);
		assert.match(down.stderr, new RegExp(`^plasma-tui down: ${expected.source}`), down.stderr);
		const outputs = [status.stderr, down.stderr];
		if (index === 0) {
			// A run would refuse the file: preflight (doctor, up) says so before anything is built.
			const doctor = cli(['doctor'], {PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: path.join(home, 'no-image')});
			assert.match(doctor.stdout, new RegExp(`fail ${expected.source}`), doctor.stdout);
			assert.equal(doctor.status, 1);
			outputs.push(doctor.stdout);
		}
		for (const output of outputs) assert.doesNotMatch(output, /TypeError|Cannot (read|convert)/);
		assert.equal(fs.readFileSync(file, 'utf8'), content, 'the state file is unchanged');
		fs.rmSync(home, {recursive: true, force: true});
	}
});

test('a run refuses to open a bad state file instead of replacing it', async () => {
	const dir = tempDir('plasma-bad-state-');
	const file = path.join(dir, 'state.json');
	for (const [content] of BAD_STATES) {
		fs.writeFileSync(file, content);
		await assert.rejects(StateStore.open(file, 'demo', dir), (error: unknown) => error instanceof ProblemError && error.message.startsWith(`state file ${file} `) && /move it away/.test(error.problem.fix ?? ''));
		await assert.rejects(readState(file), ProblemError);
		assert.equal(fs.readFileSync(file, 'utf8'), content);
	}
	fs.rmSync(dir, {recursive: true, force: true});
});

test('a pinned host keys file of the wrong shape is refused with its path, never read as "nothing pinned"', async () => {
	const dir = tempDir('plasma-bad-pins-');
	const pinStorePath = path.join(dir, 'known_hosts.json');
	const target = {node: 'node01', host: '127.0.0.1', port: 2241, username: 'root', privateKeyPath: '/nonexistent', pinStorePath};
	for (const content of ['', '{"node01": ', '{"node01": "SHA256:abc"}', '[]']) {
		fs.writeFileSync(pinStorePath, content);
		await assert.rejects(pinnedKeyFor(target), (error: unknown) => error instanceof ProblemError && error.message.startsWith(`pinned host keys ${pinStorePath} `) && /left as it is/.test(error.message));
		assert.equal(fs.readFileSync(pinStorePath, 'utf8'), content);
	}
	fs.writeFileSync(pinStorePath, JSON.stringify({node01: {fingerprint: 'SHA256:abc', host: '127.0.0.1', port: 2241, pinnedAt: 'then'}}));
	assert.equal(await pinnedKeyFor(target), 'SHA256:abc');
	fs.rmSync(dir, {recursive: true, force: true});
});

test('a broken demo image stamp is named and the image is built again', async () => {
	const dir = tempDir('plasma-bad-stamp-');
	const imageDir = path.join(dir, 'image');
	fs.mkdirSync(imageDir);
	for (const file of ['vmlinuz', 'initrd.img', 'versions.txt']) fs.writeFileSync(path.join(imageDir, file), 'old\n');
	const stampFile = path.join(imageDir, 'stamp.json');
	fs.writeFileSync(stampFile, '{"stamp": 42}');
	const script = path.join(dir, 'stand-in-build.sh');
	fs.writeFileSync(script, 'mkdir -p "$1" && cd "$1" && echo new > vmlinuz && echo new > initrd.img && echo new > versions.txt\n');
	const lines: string[] = [];
	const image = await ensureDemoImage(imageDir, {buildScript: script, onLine: line => lines.push(line)});
	assert.equal(image.built, true);
	assert.ok(lines.some(line => line.startsWith(`image stamp ${stampFile} does not have the expected shape (stamp: `) && line.endsWith(': the image is built again')), lines.join('\n'));
	assert.equal(typeof JSON.parse(fs.readFileSync(stampFile, 'utf8')).stamp, 'string');
	fs.rmSync(dir, {recursive: true, force: true});
});
