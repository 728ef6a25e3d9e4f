import {test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {buildPlan, withAccel} from '../../source/model/plan.js';
import {formatPlan} from '../../source/model/plan-format.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {profileSchema} from '../../source/model/profile-schema.js';
import {template} from '../helpers.js';

// A system installed by nixos-anywhere (here its stand-in) is booted by the firmware from the disk:
// the plan holds both QEMU argument lists, the program run as nixos-anywhere and what the engine
// expects after the install's reboot.

const context = {clustersDir: '/w', imageDir: '/img', home: '/h', packageRoot: '/opt/plasma-tui'};
const option = (args: string[], name: string) => args.filter((_, index) => args[index - 1] === name);

test('the stand-in profile: first boot netboots with -no-reboot, the installed boot has no -kernel and no fw_cfg host key', () => {
	const plan = withAccel(buildPlan(template('demo-nixos-anywhere'), context), 'tcg');
	assert.equal(plan.boot.firmware, 'seabios');
	for (const node of plan.nodes) {
		assert.deepEqual(option(node.qemuArgs, '-kernel'), ['/img/vmlinuz']);
		assert.ok(node.qemuArgs.includes('-no-reboot'), 'the install reboot ends the first QEMU');
		assert.ok(option(node.qemuArgs, '-fw_cfg').some(value => value.startsWith('name=opt/plasma/ssh_host_ed25519_key,')));
		const installed = node.qemuArgsInstalled;
		for (const gone of ['-kernel', '-initrd', '-append', '-no-reboot']) assert.ok(!installed.includes(gone), `${gone} in ${installed.join(' ')}`);
		assert.deepEqual(option(installed, '-boot'), ['order=c']);
		assert.deepEqual(option(installed, '-fw_cfg'), [`name=opt/plasma/authorized_keys,file=${plan.ssh.publicKey}`]);
		assert.deepEqual(option(installed, '-device'), option(node.qemuArgs, '-device'), 'the same NICs (fixed management MAC) after the install');
		assert.equal(node.install.method, 'nixos-anywhere');
		if (node.install.method !== 'nixos-anywhere') continue;
		assert.equal(node.install.command, '/opt/plasma-tui/image/nixos-anywhere-standin.mjs', '{package}/ is where plasma-tui is installed, whatever the current directory');
		assert.deepEqual(node.install.reboot, {hostKeyPub: node.files.hostKeyPub, restartsQemu: true});
		assert.equal(node.install.argv.at(-1), 'root@127.0.0.1');
	}
	const text = formatPlan(plan);
	assert.match(text, /qemu-system-x86_64 for node01 once installed \(boot.afterInstall disk\):/);
	assert.match(text, /nixos-anywhere for node01 \(run as \/.*image\/nixos-anywhere-standin\.mjs\):/);
});

test('boot.afterInstall netboot: the node netboots again in the same QEMU, nothing restarted', () => {
	const profile = template('demo-nixos-anywhere');
	profile.boot.afterInstall = 'netboot';
	const node = buildPlan(profile, context).nodes[0]!;
	assert.ok(!node.qemuArgs.includes('-no-reboot'));
	assert.deepEqual(node.qemuArgsInstalled, node.qemuArgs);
	assert.equal(node.install.method === 'nixos-anywhere' && node.install.reboot.restartsQemu, false);
});

test('install.nixosAnywhere.command: a bare name stays a PATH lookup; the default is nixos-anywhere', () => {
	const profile = template('plasmacloud-3node');
	assert.equal(profile.install.nixosAnywhere.command, 'nixos-anywhere');
	const plan = buildPlan(profile, context);
	assert.equal(plan.install.command, 'nixos-anywhere');
	profile.install.nixosAnywhere.command = 'my-anywhere';
	assert.equal(buildPlan(profile, context).install.command, 'my-anywhere');
});

test('boot.firmware: seabios by default, ovmf accepted, anything else refused with its path', () => {
	const base = {name: 'x', nodes: [{name: 'node01'}]};
	assert.equal(profileSchema.parse(base).boot.firmware, 'seabios');
	assert.equal(profileSchema.parse({...base, boot: {firmware: 'ovmf'}}).boot.firmware, 'ovmf');
	const parsed = parseProfile({...base, boot: {firmware: 'uefi'}});
	assert.equal(parsed.ok, false);
	if (!parsed.ok) assert.ok(parsed.errors.some(problem => problem.field === 'boot.firmware'), JSON.stringify(parsed.errors));
});

test('boot.firmware ovmf: the installed boot gets OVMF as pflash (code read-only, the node\'s own variables); the first boot keeps -kernel', () => {
	const profile = template('demo-nixos-anywhere');
	profile.boot.firmware = 'ovmf';
	const plan = buildPlan(profile, context);
	assert.deepEqual(plan.boot.ovmf, {code: '/usr/share/OVMF/OVMF_CODE_4M.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS_4M.fd'});
	const node = plan.nodes[1]!;
	assert.equal(node.firmwareVars, '/w/demo-nixos-anywhere/nodes/node02/OVMF_VARS.fd');
	assert.deepEqual(option(node.qemuArgsInstalled, '-drive').slice(1), [
		'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
		'if=pflash,format=raw,unit=1,file=/w/demo-nixos-anywhere/nodes/node02/OVMF_VARS.fd',
	]);
	assert.ok(!node.qemuArgsInstalled.includes('-kernel'));
	assert.ok(!node.qemuArgs.some(arg => arg.startsWith('if=pflash')));
	assert.ok(plan.creates.some(thing => thing.path === node.firmwareVars));
	assert.equal(buildPlan(template('demo-nixos-anywhere'), context).nodes[1]!.firmwareVars, undefined);
});
