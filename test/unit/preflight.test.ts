import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {parseProfile} from '../../source/model/parse-profile.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {hostTools, skipUnless} from '../helpers.js';

async function setup(): Promise<string> {
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-preflight-'));
	process.env.PLASMA_TUI_HOME = dir;
	return dir;
}

async function demoProfile(patch: (raw: any) => void = () => {}): Promise<Profile> {
	const raw = JSON.parse(await fs.readFile(new URL('../../profiles/demo.json', import.meta.url), 'utf8'));
	patch(raw);
	const parsed = parseProfile(raw);
	assert.ok(parsed.ok, JSON.stringify(parsed));
	return parsed.profile;
}

test('missing kernel, occupied SSH port and missing tool are named', async () => {
	const dir = await setup();
	const {runPreflight} = await import('../../source/services/preflight.js');
	const {planFor} = await import('../../source/commands/common.js');
	const server = net.createServer();
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as net.AddressInfo).port;
	try {
		const profile = await demoProfile(raw => {
			raw.boot = {...raw.boot, mode: 'netboot', image: 'custom', kernel: path.join(dir, 'missing-kernel'), initrd: path.join(dir, 'missing-initrd')};
			raw.nodes[0].sshPort = port;
		});
		const findings = await runPreflight(planFor(profile), {probeKvm: false, env: {...process.env, PATH: dir}});
		const text = findings.map(f => `${f.status} ${f.id} ${f.message} ${f.fix ?? ''}`).join('\n');
		assert.match(text, /fail .*kernel.*missing-kernel.*boot\.kernel/);
		assert.match(text, new RegExp(`fail port:nodes\\[0\\]\\.sshPort .*${port}`));
		assert.match(text, /fail tool:qemu-system-x86_64 .*qemu-system-x86/);
		assert.match(text, /qemu-utils/);
		assert.match(text, /vde2/);
	} finally {
		server.close();
		await fs.rm(dir, {recursive: true, force: true});
	}
});

// The kernel the real probe boots: the host's own, else the demo image's once it is built.
async function probeKernel(): Promise<string | undefined> {
	const {toolPaths} = await import('../../source/services/paths.js');
	const kernels = (await fs.readdir('/boot').catch(() => [])).filter(f => f.startsWith('vmlinuz-'));
	if (kernels.length > 0) return path.join('/boot', kernels[0]!);
	const demoKernel = path.join(toolPaths({...process.env, PLASMA_TUI_HOME: undefined}).imageDir, 'vmlinuz');
	return fs.access(demoKernel).then(() => demoKernel, () => undefined);
}

async function customBootProfile(dir: string, kernel: string, accel: string): Promise<Profile> {
	return demoProfile(raw => {
		raw.boot = {...raw.boot, mode: 'netboot', image: 'custom', kernel, initrd: path.join(dir, 'initrd'), accel};
	});
}

// Each call probes afresh: the verdict cached for this boot would answer for the stand-in QEMU of the call before.
async function accelOf(profile: Profile, env: NodeJS.ProcessEnv = process.env) {
	const {runPreflight, chosenAccel} = await import('../../source/services/preflight.js');
	const {planFor} = await import('../../source/commands/common.js');
	const plan = planFor(profile);
	await fs.rm(plan.kvmProbeCache, {force: true});
	const findings = await runPreflight(plan, {env});
	return {finding: findings.find(f => f.id === 'accel')!, chosen: chosenAccel(findings)};
}

const qemuSkip = skipUnless(await hostTools({'qemu-system-x86_64': 'qemu-system-x86'}));

test('preflight picks the accelerator the KVM probe finds on this machine, says why, and leaves no qemu behind', {skip: qemuSkip}, async () => {
	const dir = await setup();
	const {probeKvm} = await import('../../source/services/preflight.js');
	const kernel = await probeKernel();
	// Probes of other tests (or other checkouts) may run at the same time: this one's files go to a folder of its own.
	const ownTmp = path.join(dir, 'tmp');
	await fs.mkdir(ownTmp);
	const savedTmp = process.env.TMPDIR;
	process.env.TMPDIR = ownTmp;
	const started = Date.now();
	const probe = await probeKvm(kernel).finally(() => {
		if (savedTmp === undefined) delete process.env.TMPDIR;
		else process.env.TMPDIR = savedTmp;
	});
	assert.ok(Date.now() - started < 30_000);
	const {finding, chosen} = await accelOf(await customBootProfile(dir, kernel ?? path.join(dir, 'no-kernel'), 'auto'));
	if (probe.usable) {
		assert.deepEqual({status: finding.status, message: finding.message, chosen}, {status: 'ok', message: `KVM (${probe.why})`, chosen: 'kvm'});
	} else {
		assert.deepEqual({status: finding.status, message: finding.message, chosen}, {status: 'warn', message: `TCG: ${probe.why}`, chosen: 'tcg'});
		assert.match(finding.fix ?? '', /slower under TCG/);
	}
	// A killed QEMU may take a moment to be reaped on a loaded machine: gone within 5 s counts.
	const leftovers = async () => {
		const found: string[] = [];
		for (const pid of await fs.readdir('/proc')) {
			if (!/^\d+$/.test(pid)) continue;
			const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
			if (cmdline.includes('rdinit=/nonexistent') && cmdline.includes(ownTmp)) found.push(pid);
		}
		return found;
	};
	for (const deadline = Date.now() + 5000; (await leftovers()).length > 0 && Date.now() < deadline; ) await new Promise(resolve => setTimeout(resolve, 100));
	assert.deepEqual(await leftovers(), []);
	await fs.rm(dir, {recursive: true, force: true});
});

// Stand-in QEMUs on PATH decide the probe: one fails like an unusable KVM, one prints a kernel banner on the serial file like a usable one.
const STAND_IN_QEMU = {
	fail: 'echo "qemu-system-x86_64: failed to initialize kvm: Permission denied" >&2; exit 1',
	boot: 'for arg; do case "$arg" in file:*) echo "Linux version 6.1.0 (stand-in)" > "${arg#file:}";; esac; done; exec sleep 5',
};

test('an unusable KVM falls back to TCG under auto and fails under kvm with the probe\'s reason; a usable one is chosen', async () => {
	const dir = await setup();
	for (const [name, body] of Object.entries(STAND_IN_QEMU)) {
		await fs.mkdir(path.join(dir, name));
		const script = `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "QEMU emulator version 7.2.0 (stand-in)"; exit 0; fi\n${body}\n`;
		await fs.writeFile(path.join(dir, name, 'qemu-system-x86_64'), script, {mode: 0o755});
	}
	const kernel = path.join(dir, 'vmlinuz');
	await fs.writeFile(kernel, 'not a kernel');
	const kvmOpens = await fs.access('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK).then(() => true, () => false);
	const env = (standIn: keyof typeof STAND_IN_QEMU) => ({...process.env, PATH: `${path.join(dir, standIn)}:${process.env.PATH}`});
	try {
		const why = kvmOpens ? 'KVM probe failed: qemu-system-x86_64: failed to initialize kvm: Permission denied' : '/dev/kvm is missing or not accessible';
		const auto = await accelOf(await customBootProfile(dir, kernel, 'auto'), env('fail'));
		assert.deepEqual({...auto.finding, chosen: auto.chosen}, {id: 'accel', status: 'warn', message: `TCG: ${why}`, fix: 'nodes boot slower under TCG (about 10 s for the demo image)', chosen: 'tcg'});
		const kvm = await accelOf(await customBootProfile(dir, kernel, 'kvm'), env('fail'));
		assert.deepEqual({...kvm.finding, chosen: kvm.chosen}, {id: 'accel', status: 'fail', message: `KVM requested but unusable: ${why}`, fix: 'set boot.accel to auto or tcg', chosen: 'tcg'});
		const tcg = await accelOf(await customBootProfile(dir, kernel, 'tcg'), env('fail'));
		assert.deepEqual({...tcg.finding, chosen: tcg.chosen}, {id: 'accel', status: 'ok', message: 'TCG (set in the profile)', chosen: 'tcg'});
		const booting = await accelOf(await customBootProfile(dir, kernel, 'auto'), env('boot'));
		assert.deepEqual(
			{status: booting.finding.status, message: booting.finding.message, chosen: booting.chosen},
			kvmOpens ? {status: 'ok', message: 'KVM (a probe kernel booted under KVM)', chosen: 'kvm'} : {status: 'warn', message: `TCG: ${why}`, chosen: 'tcg'},
		);
	} finally {
		await fs.rm(dir, {recursive: true, force: true});
	}
});

test('a flake git tree with untracked files warns naming the file (issue 14: the build may not read it)', {skip: skipUnless(await hostTools({git: 'git'}))}, async () => {
	const dir = await setup();
	const {runPreflight} = await import('../../source/services/preflight.js');
	const {planFor} = await import('../../source/commands/common.js');
	const {execa} = await import('execa');
	const flake = path.join(dir, 'flake');
	await fs.mkdir(flake);
	await execa('git', ['init', '-q', flake]);
	await fs.writeFile(path.join(flake, 'forgotten.nix'), '{}');
	try {
		const profile = await demoProfile(raw => {
			raw.install = {...raw.install, method: 'nixos-anywhere', nixosAnywhere: {flake}};
		});
		const findings = await runPreflight(planFor(profile), {probeKvm: false});
		const finding = findings.find(f => f.id === `flake:${flake}`);
		assert.equal(finding?.status, 'warn');
		assert.match(finding.message, /forgotten\.nix/);
		assert.match(finding.fix ?? '', /git add/);
	} finally {
		await fs.rm(dir, {recursive: true, force: true});
	}
});

test('every local flake a run builds from is checked once; flake refs with a scheme are not local trees', {skip: skipUnless(await hostTools({git: 'git'}))}, async () => {
	const dir = await setup();
	const {runPreflight} = await import('../../source/services/preflight.js');
	const {planFor} = await import('../../source/commands/common.js');
	const {execa} = await import('execa');
	const flake = path.join(dir, 'flake');
	await fs.mkdir(flake);
	await execa('git', ['init', '-q', flake]);
	try {
		const flakeIds = async (patch: (raw: any) => void) => (await runPreflight(planFor(await demoProfile(patch)), {probeKvm: false})).filter(f => f.id.startsWith('flake')).map(f => `${f.id} ${f.status}`);
		const nixBoot = (raw: any, nixAttr: string) => (raw.boot = {...raw.boot, image: 'nix', nixAttr});
		assert.deepEqual(await flakeIds(raw => nixBoot(raw, `${flake}#netboot`)), [`flake:${flake} ok`]);
		assert.deepEqual(await flakeIds(raw => {
			nixBoot(raw, `${flake}#netboot`);
			raw.install = {...raw.install, method: 'nixos-anywhere', nixosAnywhere: {flake}};
		}), [`flake:${flake} ok`]);
		assert.deepEqual(await flakeIds(raw => {
			nixBoot(raw, 'github:example/netboot#netboot');
			raw.install = {...raw.install, method: 'nixos-anywhere', nixosAnywhere: {flake: 'path:/srv/plasmacloud'}};
		}), []);
		assert.deepEqual(await flakeIds(raw => nixBoot(raw, `${path.join(dir, 'not-git')}#netboot`)), [`flake:${path.join(dir, 'not-git')} warn`]);
	} finally {
		await fs.rm(dir, {recursive: true, force: true});
	}
});

test('the KVM verdict is read from and written to the cache file the plan names', async () => {
	const dir = await setup();
	const {runPreflight} = await import('../../source/services/preflight.js');
	const {planFor} = await import('../../source/commands/common.js');
	const bootId = (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
	try {
		const plan = planFor(await demoProfile());
		assert.equal(plan.kvmProbeCache, path.join(dir, 'kvm-probe.json'));
		await fs.writeFile(plan.kvmProbeCache, JSON.stringify({bootId, usable: false, why: 'verdict kept in the planned cache'}));
		const accel = (await runPreflight(plan)).find(f => f.id === 'accel');
		assert.equal(accel?.message, 'TCG: verdict kept in the planned cache (probed earlier since this boot)');
	} finally {
		await fs.rm(dir, {recursive: true, force: true});
	}
});
