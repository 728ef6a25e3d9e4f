import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {sshTargetFor} from '../../source/engine/up.js';
import {buildPlan, type Plan} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {onSshHosts} from '../../source/model/ssh-hosts-profile.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {fingerprintOfPublicKeyFile} from '../../source/services/ssh-keys.js';
import {waitForSsh} from '../../source/services/ssh.js';
import {teardown} from '../../source/services/teardown.js';
import {tempDir, template} from '../helpers.js';
import {demoProfileIn, freePortBase, processesOf, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = await vmSkip();

// The VM cluster is the rehearsal, then the same profile goes onto "existing
// machines": 3 demo VMs booted with `up --boot-only` stand in for them, and a
// second profile of target ssh-hosts reaches them on their forwarded ports on
// 127.0.0.1 and their cluster IPs on the VDE network. Its `up` installs and
// validates a TLS etcd; its `down` stops etcd and leaves the VMs running.

const bin = path.resolve('dist/cli.js');
const home = tempDir('plasma-hosts-');
const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: sharedImageDir};
let vm: {profile: Profile; plan: Plan; profileFile: string};
let fingerprints: Record<string, string> = {};

function cli(args: string[], timeout = 600_000) {
	return execa(process.execPath, [bin, ...args], {env, reject: false, timeout, all: true});
}

// A profile of target ssh-hosts onto the VMs, saved for the CLI; `edit` makes the negative cases.
async function hostsProfile(name: string, edit?: (profile: Profile) => void): Promise<{profile: Profile; plan: Plan; profileFile: string}> {
	const hosts = Object.fromEntries(vm.plan.nodes.map(n => [n.name, {host: '127.0.0.1', port: n.sshPort}]));
	const profile = onSshHosts(vm.profile, hosts, {node01: fingerprints['node01']!, node02: fingerprints['node02']!});
	profile.name = name;
	profile.workDir = path.join(home, name);
	profile.ssh.keyPath = vm.plan.ssh.privateKey;
	// 15 s: under a loaded host (2 cores, several TCG VMs) a handshake through node01, which is node02's bastion too, took over 5 s.
	profile.target = {kind: 'ssh-hosts', connectTimeoutSec: 15, minFreeDiskMiB: 16, consoleLog: '/var/log/etcd.log'};
	// The rehearsal VMs were only booted: the install and checks are the demo's.
	const demo = template('demo');
	profile.install = {...demo.install, push: {...demo.install.push, uninstall: [{roles: ['control-plane'], run: '/sbin/svc stop etcd'}, 'rm -rf /var/lib/etcd/{name}']}};
	// The etcd checks that prove a TLS Raft cluster; the demo's persistence and metrics checks cost time and prove nothing new here.
	profile.checks = demo.checks.filter(c => ['ssh', 'l2-mesh', 'hosts-resolve', 'raft-quorum', 'crud', 'tls'].includes(c.type));
	edit?.(profile);
	const plan = buildPlan(profile, {clustersDir: path.join(home, 'clusters'), imageDir: sharedImageDir, home});
	const profileFile = path.join(home, `${name}.json`);
	await writeProfileFile(profileFile, profile);
	return {profile, plan, profileFile};
}

async function onVm(node: string, command: string) {
	const ssh = await waitForSsh(sshTargetFor(vm.plan, vm.plan.nodes.find(n => n.name === node)!), {timeoutMs: 30_000});
	try {
		return await ssh.exec(command, {timeoutMs: 30_000});
	} finally {
		ssh.close();
	}
}

before(async () => {
	if (skip) return;
	await ensureDemoImage(sharedImageDir, {});
	// The rehearsal's VMs, booted only: nothing installed on them yet.
	vm = await demoProfileIn(home, 'hostvms', profile => {
		profile.install.method = 'none';
		profile.checks = [];
	});
	const boot = await cli(['up', '--profile-file', vm.profileFile, '--yes', '--boot-only']);
	assert.equal(boot.exitCode, 0, boot.all);
	// The demo image presents the host key the tool generated for it (handed over fw_cfg).
	for (const node of vm.plan.nodes) fingerprints[node.name] = await fingerprintOfPublicKeyFile(node.files.hostKeyPub);
});

after(async () => {
	if (vm) await teardown(vm.plan, {graceMs: 500, purge: true}).catch(() => undefined);
	fs.rmSync(home, {recursive: true, force: true});
});

test('refused before anything is installed: a wrong host key names both, a closed port is named within its timeout, no key without --accept-new-host-keys, nixos-anywhere without allowWipe', {timeout: 300_000, skip}, async () => {
	const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
	const wrongKey = await hostsProfile('wrongkey', p => (p.ssh.hostKeys['node01'] = wrong));
	const refused = await cli(['up', '--profile-file', wrongKey.profileFile, '--yes', '--accept-new-host-keys']);
	assert.equal(refused.exitCode, 1, refused.all);
	assert.match(refused.all ?? '', /\[preflight\] failed/);
	assert.ok((refused.all ?? '').includes(wrong) && (refused.all ?? '').includes(fingerprints['node01']!), `both fingerprints named: ${refused.all}`);
	assert.doesNotMatch(refused.all ?? '', /\[install\]/);

	const closed = await freePortBase(1);
	const unreachable = await hostsProfile('unreachable', p => (p.nodes[1]!.ssh = {host: '127.0.0.1', port: closed}));
	const started = Date.now();
	const down = await cli(['up', '--profile-file', unreachable.profileFile, '--yes', '--accept-new-host-keys']);
	assert.equal(down.exitCode, 1, down.all);
	assert.match(down.all ?? '', new RegExp(`node02: root@127\\.0\\.0\\.1:${closed} is unreachable`));
	assert.ok(Date.now() - started < 60_000, `named within its timeout (${Date.now() - started} ms)`);

	const unpinned = await hostsProfile('unpinned');
	const noFlag = await cli(['up', '--profile-file', unpinned.profileFile, '--yes']);
	assert.equal(noFlag.exitCode, 1, noFlag.all);
	assert.match(noFlag.all ?? '', new RegExp(`node03: no host key is pinned for root@127\\.0\\.0\\.1:\\d+; it presents ${fingerprints['node03']!.replace(/[+/]/g, '\\$&')}`));
	assert.match(noFlag.all ?? '', /--accept-new-host-keys/);

	const wipe = await hostsProfile('nowipe', p => {
		p.install.method = 'nixos-anywhere';
		p.nodes.forEach((n, i) => (n.installDisk = `/dev/disk/by-id/virtio-disk${i}`));
	});
	const noWipe = await cli(['up', '--profile-file', wipe.profileFile, '--yes']);
	assert.equal(noWipe.exitCode, 2, noWipe.all);
	assert.match(noWipe.all ?? '', /install\.nixosAnywhere\.allowWipe: nixos-anywhere erases/);
});

test('up onto the machines installs and validates a TLS etcd (node02 through node01 as its bastion); console reads its log; down stops it and leaves the VMs running', {timeout: 900_000, skip}, async () => {
	// node02 is reached the way a machine behind a bastion is: through node01, at its cluster IP on the
	// VDE network (the tunnel stays on 127.0.0.1 and the switch). Every SSH use below goes that way.
	const [first, second] = vm.plan.nodes;
	const bastion = `root@127.0.0.1:${first!.sshPort}`;
	const hosts = await hostsProfile('onhosts', p => (p.nodes[1]!.ssh = {host: second!.ip, port: 22, jump: {host: '127.0.0.1', port: first!.sshPort, hostKey: fingerprints['node01']!}}));
	const vmsBefore = (await processesOf(vm.plan)).map(p => p.pid).sort();
	assert.equal(vmsBefore.length, 4, 'three QEMU and the switch');

	const up = await cli(['up', '--profile-file', hosts.profileFile, '--yes', '--accept-new-host-keys']);
	const output = up.all ?? '';
	assert.equal(up.exitCode, 0, output);
	assert.match(output, new RegExp(`accepted new host key ${fingerprints['node03']!.replace(/[+/]/g, '\\$&')} for node03`), 'the accepted key is printed');
	assert.doesNotMatch(output, /accepted new host key .* for node0[12]/, 'pinned keys are not "accepted"');
	for (const stage of ['preflight', 'certificates', 'install', 'validate']) assert.match(output, new RegExp(`^\\[${stage}\\] done`, 'm'));
	assert.doesNotMatch(output, /^\[(image|boot)\]/m, 'nothing built or booted');
	assert.match(output, /node01: reaches 2 peers on the cluster network/, 'the l2-mesh check ran in preflight');
	assert.match(output, /node0\d: Linux /);
	assert.ok(output.includes(`node02: root@${second!.ip}:22 via ${bastion} answers with host key ${fingerprints['node02']!} (pinned), through its bastion`), output);
	assert.match(output, /check raft-quorum :2379: ok \(3 members/);
	assert.match(output, /check crud :2379: ok/);
	assert.deepEqual((await processesOf(vm.plan)).map(p => p.pid).sort(), vmsBefore, 'up started no QEMU');
	assert.equal((await onVm('node02', '/sbin/svc status etcd')).code, 0);

	const status = await cli(['status', '--profile-file', hosts.profileFile], 60_000);
	assert.match(status.stdout, new RegExp(`^node02 +\\S.*  ssh root@${second!.ip.replaceAll('.', '\\.')}:22 via root@127\\.0\\.0\\.1:${first!.sshPort}  ip ${second!.ip.replaceAll('.', '\\.')}  console /var/log/etcd\\.log over SSH$`, 'm'), status.stdout);

	const consoleOut = await cli(['console', 'node02', '--profile-file', hosts.profileFile, '--no-follow'], 60_000);
	assert.equal(consoleOut.exitCode, 0, consoleOut.all);
	assert.match(consoleOut.stdout, /etcd|raft/i, 'the etcd log of the machine, over SSH');

	const unconfirmed = await cli(['down', '--profile-file', hosts.profileFile], 60_000);
	assert.equal(unconfirmed.exitCode, 2, unconfirmed.all);
	assert.match(unconfirmed.all ?? '', /\$ \/sbin\/svc stop etcd/, 'what it would run is listed');
	assert.equal((await onVm('node01', '/sbin/svc status etcd')).code, 0, 'nothing changed without --yes');

	const down = await cli(['down', '--profile-file', hosts.profileFile, '--yes'], 120_000);
	assert.equal(down.exitCode, 0, down.all);
	assert.deepEqual((await processesOf(vm.plan)).map(p => p.pid).sort(), vmsBefore, 'down powered nothing off');
	for (const node of vm.plan.nodes) {
		assert.equal((await onVm(node.name, '/sbin/svc status etcd')).code, 3, `${node.name}: etcd stopped`);
		assert.equal((await onVm(node.name, 'pidof etcd')).code, 1, `${node.name}: no etcd process left`);
		assert.notEqual((await onVm(node.name, `test -e ${node.secrets.remoteDir}`)).code, 0, `${node.name}: the pushed secrets are gone`);
		assert.doesNotMatch((await onVm(node.name, 'cat /etc/hosts')).stdout, /BEGIN plasma-tui/);
	}
	assert.ok(fs.existsSync(hosts.plan.workDir), 'down without --purge keeps the local files');
	const purge = await cli(['down', '--profile-file', hosts.profileFile, '--yes', '--purge'], 120_000);
	assert.equal(purge.exitCode, 0, purge.all);
	assert.ok(!fs.existsSync(hosts.plan.workDir), '--purge deletes the local work directory');
	assert.deepEqual((await processesOf(vm.plan)).map(p => p.pid).sort(), vmsBefore, '--purge powered nothing off either');
});
