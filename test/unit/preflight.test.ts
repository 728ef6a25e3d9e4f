import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {parseProfile} from '../../source/model/parse-profile.js';
import type {Profile} from '../../source/model/profile-schema.js';

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

test('the KVM probe on this machine falls back within its timeout and leaves no qemu behind', async () => {
	const dir = await setup();
	const {probeKvm} = await import('../../source/services/preflight.js');
	const kernels = (await fs.readdir('/boot').catch(() => [])).filter(f => f.startsWith('vmlinuz-'));
	const kernel = kernels.length > 0 ? path.join('/boot', kernels[0]!) : undefined;
	const started = Date.now();
	const result = await probeKvm(kernel);
	assert.equal(result.usable, false, result.why);
	assert.ok(Date.now() - started < 30_000);
	const leftovers: string[] = [];
	for (const pid of await fs.readdir('/proc')) {
		if (!/^\d+$/.test(pid)) continue;
		const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
		if (cmdline.includes('rdinit=/nonexistent') && cmdline.includes('plasma-kvm-probe-')) leftovers.push(pid);
	}
	assert.deepEqual(leftovers, []);
	await fs.rm(dir, {recursive: true, force: true});
});

test('a flake git tree with untracked files fails naming the file', async () => {
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
		const finding = findings.find(f => f.id === 'flake');
		assert.equal(finding?.status, 'fail');
		assert.match(finding.message, /forgotten\.nix/);
		assert.match(finding.fix ?? '', /git add/);
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
