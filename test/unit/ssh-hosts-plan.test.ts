import {test} from 'node:test';
import assert from 'node:assert/strict';
import {buildPlan} from '../../source/model/plan.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {diskoLayout} from '../../source/model/node-config.js';
import {onSshHosts} from '../../source/model/ssh-hosts-profile.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {hostTools, skipUnless, template, tempDir} from '../helpers.js';

const context = {clustersDir: '/w', imageDir: '/img', home: '/h'};
const KEY = 'SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

function hostsProfile(edit?: (profile: Profile) => void): Profile {
	const profile = onSshHosts(template('demo'), {
		node01: {host: '10.9.0.1', port: 22},
		node02: {host: 'db2.example.org', port: 2222, user: 'admin'},
		node03: {host: '10.9.0.3', port: 22, jump: {host: 'bastion', port: 22, user: 'ops', hostKey: KEY}},
	}, {node01: KEY});
	profile.install.push.uninstall = [{roles: ['control-plane'], run: '/sbin/svc stop etcd'}, 'rm -rf /var/lib/etcd/{name}'];
	edit?.(profile);
	const parsed = parseProfile(JSON.parse(JSON.stringify(profile)));
	assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
	return parsed.profile;
}

test('a profile without target is a qemu profile, as before', () => {
	const profile = template('demo');
	assert.deepEqual(profile.target, {kind: 'qemu'});
	const plan = buildPlan(profile, context);
	assert.deepEqual(plan.target, {kind: 'qemu'});
	assert.equal(plan.nodes[0]!.sshHost, undefined);
	assert.ok(plan.nodes[0]!.qemuArgs.length > 0);
});

test('ssh-hosts: the plan assigns no MAC, port, disk or QEMU; it keeps the cluster IPs and says how each machine is reached', () => {
	const plan = buildPlan(hostsProfile(), context);
	assert.deepEqual(plan.problems, []);
	assert.equal(plan.target.kind, 'ssh-hosts');
	assert.deepEqual(plan.stages, ['preflight', 'certificates', 'install', 'validate']);
	assert.deepEqual(plan.nodes.map(n => n.sshHost), [
		{host: '10.9.0.1', port: 22, user: 'root'},
		{host: 'db2.example.org', port: 2222, user: 'admin'},
		{host: '10.9.0.3', port: 22, user: 'root', jump: {host: 'bastion', port: 22, user: 'ops', hostKey: KEY}},
	]);
	assert.deepEqual(plan.nodes.map(n => n.ip), ['192.168.100.11', '192.168.100.12', '192.168.100.13']);
	for (const node of plan.nodes) {
		assert.equal(node.mac, '');
		assert.deepEqual(node.qemuArgs, []);
		assert.equal(node.disk.path, '');
	}
	assert.equal(plan.nodes[1]!.sshPort, 2222);
	assert.ok(!plan.creates.some(t => t.path.includes('vde') || t.path.endsWith('.qcow2') || t.path === 'qemu-system-x86_64'), JSON.stringify(plan.creates));
	assert.match(plan.nodes[0]!.hostKey.expect, new RegExp(KEY));
	assert.match(plan.nodes[1]!.hostKey.expect, /--accept-new-host-keys/);
});

test('ssh-hosts: down\'s uninstall commands are filled in per role, and it removes what the push put there', () => {
	const plan = buildPlan(hostsProfile(p => (p.nodes[2]!.role = 'worker')), context);
	assert.deepEqual(plan.nodes[0]!.uninstall?.commands, ['/sbin/svc stop etcd', "rm -rf /var/lib/etcd/'node01'"]);
	assert.deepEqual(plan.nodes[2]!.uninstall?.commands, ["rm -rf /var/lib/etcd/'node03'"]);
	assert.deepEqual(plan.nodes[0]!.uninstall?.commandFields, ['install.push.uninstall[0]', 'install.push.uninstall[1]']);
	assert.deepEqual(plan.nodes[0]!.uninstall?.removeDirs, ['/etc/plasma/secrets']);
});

test('a mixed profile is refused: an ssh host under target qemu, a node without ssh under ssh-hosts, a VM setting on a machine', () => {
	const vm = template('demo');
	vm.nodes[1]!.ssh = {host: '10.0.0.2', port: 22};
	const refusedVm = parseProfile(JSON.parse(JSON.stringify(vm)));
	assert.ok(!refusedVm.ok);
	assert.ok(refusedVm.errors.some(e => e.field === 'nodes[1].ssh' && /one target kind per profile/.test(e.message)), JSON.stringify(refusedVm.errors));

	const hosts = JSON.parse(JSON.stringify(hostsProfile()));
	delete hosts.nodes[2].ssh;
	delete hosts.nodes[1].ip;
	hosts.nodes[0].mac = '52:54:00:00:00:01';
	const refused = parseProfile(hosts);
	assert.ok(!refused.ok);
	const fields = refused.errors.map(e => e.field);
	assert.ok(fields.includes('nodes[2].ssh') && fields.includes('nodes[1].ip') && fields.includes('nodes[0].mac'), JSON.stringify(refused.errors));
	assert.match(refused.errors.find(e => e.field === 'nodes[2].ssh')!.message, /one target kind per profile/);
});

test('nixos-anywhere onto existing machines: their own address and port, --extra-files, no 127.0.0.1 or forwarded-port options', () => {
	const plan = buildPlan(hostsProfile(p => {
		p.install.method = 'nixos-anywhere';
		p.install.nixosAnywhere.allowWipe = true;
		p.nodes.forEach((n, i) => {
			n.installDisk = `/dev/disk/by-id/nvme-disk${i}`;
			n.diskGiB = 100 * (i + 1);
		});
	}), context);
	assert.deepEqual(plan.problems, []);
	const [one, two, three] = plan.nodes.map(n => (n.install.method === 'nixos-anywhere' ? n.install.argv : []));
	assert.deepEqual(one, ['--flake', '.#node01', '--extra-files', '/w/demo/nodes/node01/extra-files/root', '-p', '22', '-i', '/w/demo/ssh/id_ed25519', 'root@10.9.0.1']);
	assert.deepEqual(two!.slice(-3), ['-i', '/w/demo/ssh/id_ed25519', 'admin@db2.example.org']);
	assert.ok(two!.includes('2222'));
	assert.deepEqual(three!.slice(-3), ['--ssh-option', 'ProxyJump=ops@bastion:22', 'root@10.9.0.3']);
	for (const argv of [one, two, three]) {
		assert.ok(!argv!.join(' ').includes('127.0.0.1'));
		assert.ok(!argv!.includes('--post-kexec-ssh-port'));
	}
	// The disk identity from the profile is the disk disko erases.
	assert.match(diskoLayout(plan.nodes[1]!), /device = "\/dev\/disk\/by-id\/nvme-disk1";/);
});

test('nixos-anywhere onto existing machines is refused without allowWipe, and without the disk to erase', () => {
	const plan = buildPlan(hostsProfile(p => (p.install.method = 'nixos-anywhere')), context);
	const wipe = plan.problems.find(p => p.field === 'install.nixosAnywhere.allowWipe');
	assert.ok(wipe, JSON.stringify(plan.problems));
	assert.match(wipe.message, /erases/);
	assert.ok(plan.problems.some(p => p.field === 'nodes[0].installDisk'));
	assert.match(plan.problems.find(p => p.field === 'nodes[0].diskGiB')?.message ?? '', /needs the size of its install disk/);
	const tiny = buildPlan(hostsProfile(p => {
		p.install.method = 'nixos-anywhere';
		p.install.nixosAnywhere.allowWipe = true;
		p.nodes.forEach((n, i) => Object.assign(n, {installDisk: `/dev/sd${'abc'[i]}`, diskGiB: i === 0 ? 1 : 8}));
	}), context);
	assert.deepEqual(tiny.problems.map(p => p.field), ['nodes[0].diskGiB']);
	const vm = template('demo');
	vm.install.method = 'nixos-anywhere';
	assert.ok(!buildPlan(vm, context).problems.some(p => p.field === 'install.nixosAnywhere.allowWipe'), 'VMs are the rehearsal: their disks are the tool\'s own');
});

test('ssh.jump: a bastion object (strict), its address and pinned key checked; the plan names it and its user defaults to the machine\'s', () => {
	const errorsOf = (jump: unknown) => {
		const profile = JSON.parse(JSON.stringify(hostsProfile()));
		profile.nodes[0].ssh.jump = jump;
		const parsed = parseProfile(profile);
		return parsed.ok ? [] : parsed.errors.map(e => `${e.field}: ${e.message}`);
	};
	assert.deepEqual(errorsOf({host: 'bastion.example.org', port: 2222, hostKey: KEY}), []);
	assert.ok(errorsOf('ops@bastion:22').some(e => e.startsWith('nodes[0].ssh.jump')), 'the old user@host:port string is not a bastion');
	assert.ok(errorsOf({host: 'bastion', proxy: 'x'}).some(e => e.includes('proxy')), 'unknown keys are errors');
	assert.ok(errorsOf({host: 'bastion', hostKey: 'md5:aa:bb'}).some(e => e.startsWith('nodes[0].ssh.jump.hostKey: "md5:aa:bb" is not an SSH host key fingerprint')));
	assert.ok(errorsOf({host: 'bad host', port: 70000, user: '1x'}).some(e => e.startsWith('nodes[0].ssh.jump.host:')));
	assert.ok(errorsOf({host: 'bastion', port: 70000}).some(e => e.startsWith('nodes[0].ssh.jump.port: 70000 is not a TCP port')));
	assert.ok(errorsOf({host: 'bastion', user: '1x'}).some(e => e.startsWith('nodes[0].ssh.jump.user:')));

	const plan = buildPlan(hostsProfile(p => (p.nodes[2]!.ssh!.jump = {host: 'bastion', port: 22})), context);
	assert.deepEqual(plan.nodes[2]!.sshHost!.jump, {host: 'bastion', port: 22, user: 'root'});
	assert.ok(plan.creates.some(t => t.path === 'root@10.9.0.3:22 via root@bastion:22'), JSON.stringify(plan.creates.map(t => t.path)));
});

function diskoPlan() {
	return buildPlan(hostsProfile(p => {
		p.install.method = 'nixos-anywhere';
		p.install.nixosAnywhere.allowWipe = true;
		p.nodes.forEach((n, i) => Object.assign(n, {installDisk: `/dev/disk/by-id/nvme-disk${i}`, diskGiB: [100, 250, 2][i]}));
	}), context);
}

test('disko on existing machines: the layout divides the size the profile gives its install disk', () => {
	const plan = diskoPlan();
	assert.deepEqual(plan.problems, []);
	const sizes = plan.nodes.map(node => diskoLayout(node).match(/root = \{\n\s+size = "(\d+)M"/)?.[1]);
	// 80% of what the 512 MiB ESP leaves (T036: 80 GB root on 100 GB), at least 1 GiB.
	assert.deepEqual(sizes, [String(Math.floor((100 * 1024 - 512) * 0.8)), String(Math.floor((250 * 1024 - 512) * 0.8)), '1228']);
	assert.match(diskoLayout(plan.nodes[1]!), /^# Generated by plasma-tui for node02: \/dev\/disk\/by-id\/nvme-disk1, 250 GiB \(nodes\[\]\.diskGiB\)\.$/m);
});

test('disko on existing machines: nix-instantiate --parse accepts every generated layout', {skip: skipUnless(await hostTools({'nix-instantiate': 'nix-bin'}))}, async () => {
	const dir = tempDir('plasma-disko-');
	for (const node of diskoPlan().nodes) {
		const file = path.join(dir, `${node.name}.nix`);
		writeFileSync(file, diskoLayout(node));
		const parsed = await execa('nix-instantiate', ['--store', 'dummy://', '--parse', file], {reject: false, timeout: 30_000, env: {...process.env, NIX_REMOTE: ''}});
		assert.equal(parsed.exitCode, 0, parsed.stderr);
	}
});
