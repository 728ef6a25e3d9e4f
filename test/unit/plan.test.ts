import {test} from 'node:test';
import assert from 'node:assert/strict';
import {buildPlan, withAccel} from '../../source/model/plan.js';
import {nixosModule} from '../../source/model/node-config.js';
import {formatPlan} from '../../source/model/plan-format.js';
import {template} from '../helpers.js';

const context = {clustersDir: '/w', imageDir: '/img', home: '/h'};

test('every path the run uses is in the plan: known hosts, QEMU log, KVM probe cache, remote cluster config', () => {
	const profile = template();
	profile.tls.remoteDir = '/var/lib/plasma/tls';
	profile.ssh.hostKeys = {node02: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinnedKeyForNode02'};
	const plan = buildPlan(profile, context);
	assert.equal(plan.ssh.knownHosts, '/w/demo/ssh/known_hosts.json');
	assert.equal(plan.kvmProbeCache, '/h/kvm-probe.json');
	assert.equal(plan.boot.imageDir, '/img');
	const node = plan.nodes[1]!;
	assert.equal(node.runtime.qemuLog, '/w/demo/run/node02/qemu.log');
	assert.equal(node.secrets.remoteClusterConfig, '/var/lib/plasma/tls/cluster-config.json');
	assert.equal(node.pinnedHostKey, profile.ssh.hostKeys['node02']);
	assert.equal(plan.nodes[0]!.pinnedHostKey, undefined);
	assert.deepEqual(plan.cluster, {name: profile.cluster.name, domain: profile.cluster.domain, prefixLength: 24});
});

test('the etcd initial cluster names every control-plane node at its peer URL, workers left out', () => {
	const profile = template();
	profile.nodes[1]!.hostname = 'db';
	profile.nodes[2]!.role = 'worker';
	profile.nodes[2]!.memoryMiB = 12288;
	const plan = buildPlan(profile, context);
	assert.equal(plan.etcdInitialCluster, 'node01=https://node01:2380,node02=https://db:2380');
});

test('push: the plan holds the uploads and the commands already filled in and quoted', () => {
	const profile = template();
	profile.tls.remoteDir = '/srv/secrets';
	profile.install.push.files = [{src: '/etc/app.conf', dest: '/opt/app.conf', mode: '0600'}];
	profile.install.push.commands = ['etcd --name {name} --initial-cluster {etcdInitialCluster} --cert {cert}'];
	const plan = buildPlan(profile, context);
	const install = plan.nodes[0]!.install;
	assert.equal(install.method, 'push');
	if (install.method !== 'push') return;
	assert.deepEqual(install.commands, [`etcd --name 'node01' --initial-cluster '${plan.etcdInitialCluster}' --cert '/srv/secrets/node01.crt'`]);
	assert.deepEqual(
		install.uploads.map(u => [u.remote, u.mode.toString(8)]),
		[['/srv/secrets/ca.crt', '644'], ['/srv/secrets/node01.crt', '644'], ['/srv/secrets/node01.key', '400'], ['/srv/secrets/cluster-config.json', '644'], ['/opt/app.conf', '600']],
	);
	assert.equal(install.uploads[3]!.local, plan.nodes[0]!.files.clusterConfig);
});

test('a command value with a NUL is a plan problem naming the command, not a crash', () => {
	const profile = template();
	profile.cluster.name = 'a\0b';
	profile.install.push.commands = ['echo {name}', 'echo {cluster}'];
	const plan = buildPlan(profile, context);
	assert.ok(plan.problems.some(p => p.field === 'install.push.commands[1]' && /\{cluster\} contains a NUL byte/.test(p.message)), JSON.stringify(plan.problems));
});

test('nixos-anywhere: the exact argv per node, extra files in the node directory; plan text shows it', () => {
	const profile = template('plasmacloud-3node');
	profile.install.nixosAnywhere = {...profile.install.nixosAnywhere, flake: '/srv/plasmacloud', extraArgs: ['--build-on', 'local']};
	const plan = buildPlan(profile, context);
	const node = plan.nodes[2]!;
	assert.equal(node.install.method, 'nixos-anywhere');
	if (node.install.method !== 'nixos-anywhere') return;
	const port = String(node.sshPort);
	assert.equal(node.install.extraFilesDir, `${node.dir}/extra-files`);
	assert.deepEqual(node.install.argv, ['--flake', '/srv/plasmacloud#node03', '--extra-files', node.install.extraFilesRoot, '-p', port, '--post-kexec-ssh-port', port, '-i', plan.ssh.privateKey, '--build-on', 'local', 'root@127.0.0.1']);
	assert.equal(node.install.timeoutSec, profile.install.timeoutSec);
	const text = formatPlan(plan);
	assert.ok(text.includes(`nixos-anywhere for node03:\n  --flake /srv/plasmacloud#node03\n  --extra-files ${node.install.extraFilesRoot}\n  -p ${port}\n`), text);
});

test('the NixOS module points at the cluster config under tls.remoteDir, never a fixed nixos/secrets', () => {
	const profile = template('plasmacloud-3node');
	profile.tls.remoteDir = '/var/lib/plasma/tls';
	const plan = buildPlan(profile, context);
	const nix = nixosModule(plan, plan.nodes[0]!, 'ssh-ed25519 AAAA test');
	assert.ok(nix.includes('plasma.clusterConfig = "/var/lib/plasma/tls/cluster-config.json";'), nix);
	assert.doesNotMatch(nix, /nixos\/secrets/);
});

test('withAccel changes the accelerator and the QEMU arguments only', () => {
	const plan = buildPlan(template(), context);
	const kvm = withAccel(plan, 'kvm');
	assert.equal(kvm.accel, 'kvm');
	assert.equal(kvm.accelNote, 'KVM (chosen by preflight)');
	assert.ok(kvm.nodes.every(n => n.qemuArgs.join(' ').includes('-accel kvm -cpu host')));
	assert.ok(plan.nodes.every(n => n.qemuArgs.join(' ').includes('-accel tcg')), 'the original plan is left as it was');
	const strip = (p: typeof plan) => ({...p, accel: undefined, accelNote: undefined, nodes: p.nodes.map(n => ({...n, qemuArgs: n.qemuArgs.filter(a => !['kvm', 'tcg', '-cpu', 'host'].includes(a)), qemuArgsInstalled: n.qemuArgsInstalled.filter(a => !['kvm', 'tcg', '-cpu', 'host'].includes(a))}))});
	assert.deepEqual(strip(kvm), strip(plan));
	assert.deepEqual(withAccel(plan, 'tcg').nodes.map(n => n.qemuArgs), plan.nodes.map(n => n.qemuArgs));
});

test('the node table keeps its columns with a long node name and a long hostname: widths come from the data', () => {
	// Issue 10, point 12: on main before this, a name longer than 6 characters (charlie) pushed the
	// role, IP and the rest of its row to the right of the other rows' columns.
	const profile = template();
	profile.nodes[0]!.name = 'alpha';
	profile.nodes[1]!.name = 'charlie-the-long';
	profile.nodes[2]!.name = 'bo';
	profile.nodes[2]!.role = 'worker';
	profile.nodes[2]!.memoryMiB = 12288;
	profile.nodes[1]!.hostname = 'a-much-longer-hostname-than-usual';
	const plan = buildPlan(profile, context);
	const lines = formatPlan(plan).split('\n');
	const rows = lines.slice(lines.indexOf('nodes:') + 1, lines.indexOf('nodes:') + 1 + plan.nodes.length);
	assert.equal(rows.length, 3);
	// Every column starts at the same offset on every row.
	const columns = (node: (typeof plan.nodes)[number]) => [node.role, node.ip, node.mac, node.hostname, `ssh 127.0.0.1:${node.sshPort}`, `${node.vcpus} vCPU`, `${node.memoryMiB} MiB`, `${node.diskGiB} GiB`];
	const from = plan.nodes.map(node => node.name.length + 2);
	for (const [cell] of columns(plan.nodes[0]!).entries()) {
		const offsets = plan.nodes.map((node, index) => (from[index] = rows[index]!.indexOf(` ${columns(node)[cell]!}`, from[index])));
		assert.ok(offsets.every(offset => offset > 0 && offset === offsets[0]), `column ${cell} starts at ${offsets.join(', ')}:\n${rows.join('\n')}`);
	}
	assert.ok(rows.every(row => row.startsWith('  ') && !row.endsWith(' ')), rows.join('\n'));
});

test('the plan shows the nix build of the netboot image, boot.nixBuildArgs last (issue 14, point 5)', () => {
	const profile = template('plasmacloud-3node');
	profile.boot.nixBuildArgs = ['--option', 'substituters', '', '--max-jobs', '2'];
	const plan = buildPlan(profile, context);
	assert.deepEqual(plan.boot.nixBuild?.extraArgs, ['--option', 'substituters', '', '--max-jobs', '2']);
	const text = formatPlan(plan);
	assert.ok(text.includes(`nix for the netboot image (nix build stage):\n  build\n  .#netboot-base\n  --out-link /w/plasmacloud-3node/netboot/result\n  --print-build-logs\n  --extra-experimental-features nix-command flakes\n  --option substituters ''\n  --max-jobs 2\n`), text);
	assert.doesNotMatch(formatPlan(buildPlan(template(), context)), /nix for the netboot image/);
});
