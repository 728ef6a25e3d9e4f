import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {installedTarget} from '../../source/engine/install-reboot.js';
import type {Plan} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {NodeSsh, waitForSsh} from '../../source/services/ssh.js';
import {fingerprintOfPublicKeyFile} from '../../source/services/ssh-keys.js';
import {readState} from '../../source/services/state.js';
import {teardown} from '../../source/services/teardown.js';
import {tempDir} from '../helpers.js';
import {demoProfileIn, processesOf, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = await vmSkip();

// Proof (d) of issue 14 on one shared 2-node cluster: the nixos-anywhere stand-in
// (image/nixos-anywhere-standin.mjs) partitions and formats each disk, copies the system and
// the extra files, installs syslinux and reboots the node; the engine starts the installed
// system with qemuArgsInstalled, SeaBIOS boots the disk, and the node presents the host key
// of its extra files on its forwarded port; every check is green.

const bin = path.resolve('dist/cli.js');
const home = tempDir('plasma-nxa-');
const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: sharedImageDir};
let plan: Plan;
let profileFile: string;
const sessions: NodeSsh[] = [];
let up: {exitCode?: number; output: string; ms: number};

before(async () => {
	if (skip) return;
	await ensureDemoImage(sharedImageDir, {});
	({plan, profileFile} = await demoProfileIn(home, 'e2enxa', profile => {
		profile.install.nixosAnywhere.command = path.resolve('image/nixos-anywhere-standin.mjs');
	}, 'demo-nixos-anywhere'));
	const started = Date.now();
	const result = await execa(process.execPath, [bin, 'up', '--yes', '--profile-file', profileFile], {env, reject: false, timeout: 900_000, all: true});
	up = {exitCode: result.exitCode, output: result.all ?? '', ms: Date.now() - started};
	console.log(`up with the stand-in: ${up.ms} ms`);
});

after(async () => {
	for (const ssh of sessions) ssh.close();
	if (plan) await teardown(plan, {graceMs: 500, purge: true}).catch(() => undefined);
	fs.rmSync(home, {recursive: true, force: true});
});

test('up runs the stand-in as nixos-anywhere, and every check is green against the rebooted nodes', {skip}, () => {
	assert.equal(up.exitCode, 0, up.output);
	const report = JSON.parse(fs.readFileSync(plan.report.json, 'utf8')) as {ok: boolean; results: Array<{check: string; node?: string; status: string}>};
	assert.equal(report.ok, true);
	assert.ok(report.results.length >= plan.nodes.length * 3, JSON.stringify(report.results));
	for (const result of report.results) assert.equal(result.status, 'ok', `${result.check} on ${result.node}`);
	for (const node of plan.nodes) {
		const log = fs.readFileSync(node.runtime.installLog, 'utf8');
		for (const step of ['Formatting hard drive with disko', 'Copying extra files', 'Installing the bootloader', 'Rebooting', 'Done!']) assert.match(log, new RegExp(`### ${step}`), log);
		assert.match(log, /plasma-disk: partitioned and formatted \/dev\/vda: GPT, 1 ESP \(FAT, legacy BIOS bootable\), 2 ext4 root/);
	}
});

test('each node runs from its disk: no -kernel in its QEMU, the bootloader on its console', {skip}, async () => {
	const running = await processesOf(plan);
	const state = await readState(plan.stateFile);
	for (const node of plan.nodes) {
		const qemu = running.find(p => p.cmdline.includes(`-pidfile ${node.runtime.pidfile}`));
		assert.ok(qemu, `${node.name}'s QEMU runs: ${JSON.stringify(running)}`);
		const argv = fs.readFileSync(`/proc/${qemu.pid}/cmdline`, 'utf8').split('\0');
		for (const gone of ['-kernel', '-initrd', '-append', '-no-reboot']) assert.ok(!argv.includes(gone), `${gone} in ${argv.join(' ')}`);
		assert.ok(argv.includes('order=c'));
		assert.deepEqual(state?.processes.find(p => p.kind === 'qemu' && p.node === node.name)?.argv.slice(1), node.qemuArgsInstalled);
		const console = fs.readFileSync(node.runtime.consoleLog, 'utf8');
		// The bootloader the firmware started, loading the system from the disk (no -kernel).
		assert.match(console, /SYSLINUX 6\.\d+ [^\r\n]*\r?\nLoading \/vmlinuz\.\.\. ok\r?\nLoading \/initrd\.img\.\.\.ok/);
		assert.match(console, /plasma-disk: booted the installed system from \/dev\/vda2/);
	}
});

test('each node presents the planned host key (from its extra files) on its forwarded port', {skip}, async () => {
	for (const node of plan.nodes) {
		const planned = await fingerprintOfPublicKeyFile(node.files.hostKeyPub);
		if (node.install.method !== 'nixos-anywhere') assert.fail('planned as a nixos-anywhere install');
		const ssh = await waitForSsh(installedTarget(plan, node, node.install.reboot), {timeoutMs: 30_000});
		sessions.push(ssh);
		assert.equal(ssh.hostKey, planned);
		assert.equal(ssh.target.port, node.sshPort);
		const onDisk = await ssh.exec('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key', {timeoutMs: 30_000});
		assert.equal(onDisk.stdout.split(/\s+/)[1], planned);
		const installed = await ssh.exec('cat /data/etc/ssh/ssh_host_ed25519_key.pub', {timeoutMs: 30_000});
		assert.equal(installed.stdout.trim().split(/\s+/).slice(0, 2).join(' '), fs.readFileSync(node.files.hostKeyPub, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '));
	}
});

test('boot.firmware ovmf: the same installed disk boots under OVMF (GRUB at the removable-media path), same host key', {skip, timeout: 600_000}, async () => {
	const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8')) as Profile;
	profile.boot.firmware = 'ovmf';
	await writeProfileFile(profileFile, profile);
	const node = plan.nodes[1]!;
	const restart = await execa(process.execPath, [bin, 'node', 'restart', node.name, '--force', '--yes', '--profile-file', profileFile], {env, reject: false, timeout: 600_000, all: true});
	assert.equal(restart.exitCode, 0, restart.all);
	const qemu = (await processesOf(plan)).find(p => p.cmdline.includes(`-pidfile ${node.runtime.pidfile}`));
	assert.ok(qemu);
	const argv = fs.readFileSync(`/proc/${qemu.pid}/cmdline`, 'utf8').split('\0');
	assert.ok(argv.includes('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd'), argv.join(' '));
	assert.ok(!argv.includes('-kernel'));
	assert.equal(fs.statSync(path.join(node.dir, 'OVMF_VARS.fd')).mode & 0o777, 0o600);
	assert.match(fs.readFileSync(node.runtime.consoleLog, 'utf8'), /plasma-tui: GRUB \(UEFI\) boots the installed system from \/dev\/vda/);
	if (node.install.method !== 'nixos-anywhere') assert.fail('planned as a nixos-anywhere install');
	const ssh = await waitForSsh(installedTarget(plan, node, node.install.reboot), {timeoutMs: 60_000});
	sessions.push(ssh);
	assert.equal(ssh.hostKey, await fingerprintOfPublicKeyFile(node.files.hostKeyPub));
});
