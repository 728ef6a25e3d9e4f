import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {tempDir, template} from '../helpers.js';

function cli(args: string[], home: string) {
	return spawnSync(process.execPath, ['--import', 'tsx', 'source/cli.tsx', ...args], {encoding: 'utf8', env: {...process.env, PLASMA_TUI_HOME: home}});
}

test('plan prints nodes, files and every QEMU argument; --json is the same plan', () => {
	const home = tempDir();
	const result = cli(['plan', '--profile', 'demo'], home);
	assert.equal(result.status, 0, result.stderr);
	assert.match(result.stdout, /stages: preflight -> image -> certificates -> boot -> install -> validate/);
	assert.match(result.stdout, /node02 +control-plane 192\.168\.100\.12/);
	assert.match(result.stdout, /\nchecks \(validate stage\):\n {2}ssh +ssh +timeout 30 s\n/);
	assert.match(result.stdout, /\n {2}etcd health +http +port 2379 +timeout 60 s\n/);
	assert.match(result.stdout, /secret +\S+\/nodes\/node03\/secrets\/node03\.key +\(node03: private key \(0400\)\)/);
	assert.match(result.stdout, /qemu-system-x86_64 for node01 \(first boot, before its install\):\n {2}-name node01,process=plasma-tui:demo:node01\n/);
	// boot.afterInstall: disk: the list after the install differs (the demo's init starts the installed disk) and is shown too.
	assert.match(result.stdout, /qemu-system-x86_64 for node01 once installed \(boot.afterInstall disk\):\n(.*\n)*? {2}-append .*plasma\.boot=disk\n/);
	assert.match(result.stdout, / {2}-netdev user,id=mgmt,restrict=on,hostfwd=tcp:127\.0\.0\.1:2241-:22\n/);
	const json = JSON.parse(cli(['plan', '--json'], home).stdout);
	assert.equal(json.nodes.length, 3);
	assert.ok(json.nodes[2].qemuArgs.includes('-kernel'));
});

test('plan --json carries the install argv and filled push commands; plan text shows them', () => {
	const home = tempDir();
	const profile = template('plasmacloud-3node');
	profile.install.nixosAnywhere.flake = '/srv/plasmacloud';
	const file = path.join(home, 'nixos.json');
	writeFileSync(file, JSON.stringify(profile));
	const result = cli(['plan', '--json', '--profile-file', file], home);
	assert.equal(result.status, 0, result.stderr);
	const json = JSON.parse(result.stdout);
	const node = json.nodes[1];
	assert.equal(node.install.method, 'nixos-anywhere');
	assert.deepEqual(node.install.argv.slice(0, 4), ['--flake', '/srv/plasmacloud#node02', '--extra-files', node.install.extraFilesRoot]);
	assert.equal(node.install.argv.at(-1), 'root@127.0.0.1');
	assert.equal(json.ssh.knownHosts, path.join(home, 'clusters', profile.name, 'ssh', 'known_hosts.json'));
	assert.equal(json.kvmProbeCache, path.join(home, 'kvm-probe.json'));
	assert.match(cli(['plan', '--profile-file', file], home).stdout, /\nnixos-anywhere for node02:\n {2}--flake \/srv\/plasmacloud#node02\n/);

	const push = cli(['plan', '--profile', 'demo'], home);
	assert.match(push.stdout, /\npush install commands for node01:\n {2}\$ /);
	const demo = JSON.parse(cli(['plan', '--json', '--profile', 'demo'], home).stdout);
	assert.equal(demo.nodes[0].install.method, 'push');
	assert.ok(demo.nodes[0].install.commands.length > 0);
	assert.ok(demo.nodes[0].install.commands.every((c: string) => !/\{(name|ip|cert|etcdInitialCluster)\}/.test(c)), 'commands are filled in');
});

test('a bad profile file exits 2 with the field-level message', () => {
	const home = tempDir();
	const profile = template();
	profile.nodes[0]!.ip = '10.1.2.3';
	profile.nodes[1]!.sshPort = 80;
	const file = path.join(home, 'bad.json');
	writeFileSync(file, JSON.stringify(profile));
	for (const command of ['plan', 'certs']) {
		const result = cli([command, '--profile-file', file], home);
		assert.equal(result.status, 2);
		assert.match(result.stderr, /nodes\[0\]\.ip: 10\.1\.2\.3 is outside the subnet 192\.168\.100\.0\/24 \(fix: choose an address in 192\.168\.100\.1-192\.168\.100\.254, or change network\.subnet\)/);
		assert.match(result.stderr, /nodes\[1\]\.sshPort: 80 is not a usable SSH port/);
	}
	assert.equal(cli(['plan', '--profile', 'nope'], home).status, 2);
});

test('certs writes the bundle, then reports it unchanged', () => {
	const home = tempDir();
	const first = cli(['certs'], home);
	assert.equal(first.status, 0, first.stderr);
	assert.match(first.stdout, /^written +\S+node01\.key$/m);
	assert.match(first.stdout, /^node01 +ECDSA P-256 +expires \S+ +([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
	const second = cli(['certs'], home);
	assert.doesNotMatch(second.stdout, /^written/m);
	assert.match(second.stdout, /^CA .*\(reused\)$/m);
	assert.doesNotMatch(first.stdout + second.stdout, /PRIVATE KEY/);
	const ca = readFileSync(path.join(home, 'clusters', 'demo', 'tls', 'ca.crt'), 'utf8');
	assert.match(ca, /BEGIN CERTIFICATE/);
});

const INSTAL = /instal: unknown key "instal" \(did you mean "install"\?\) \(fix: rename it to install, or remove it\)/;

function misspeltInstall(name = 'demo'): Record<string, unknown> {
	const {install, ...rest} = template();
	return {...rest, name, instal: install};
}

test('a profile file with a misspelt key exits 2 naming the key and the one it meant', () => {
	const home = tempDir();
	const file = path.join(home, 'typo.json');
	writeFileSync(file, JSON.stringify(misspeltInstall()));
	const result = cli(['plan', '--profile-file', file], home);
	assert.equal(result.status, 2);
	assert.match(result.stderr, INSTAL);
	assert.equal(result.stdout, '');
});

test('profiles import refuses a file with a misspelt key and saves nothing', () => {
	const home = tempDir();
	const file = path.join(home, 'typo.json');
	writeFileSync(file, JSON.stringify(misspeltInstall('typo')));
	const result = cli(['profiles', 'import', file], home);
	assert.equal(result.status, 2);
	assert.match(result.stderr, INSTAL);
	assert.equal(existsSync(path.join(home, 'config', 'profiles.json')), false);
});

test('a saved profile with a misspelt key exits 2 with its name; profiles.json keeps its bytes', () => {
	const home = tempDir();
	const file = path.join(home, 'config', 'profiles.json');
	mkdirSync(path.dirname(file), {recursive: true});
	writeFileSync(file, JSON.stringify({profiles: {lab: misspeltInstall('lab')}}, null, 2));
	const before = readFileSync(file);
	for (const args of [['plan', '--profile', 'lab'], ['profiles', 'export', 'lab', path.join(home, 'out.json')], ['profiles', 'rename', 'lab', 'lab2']]) {
		const result = cli(args, home);
		assert.equal(result.status, 2, args.join(' '));
		assert.match(result.stderr, INSTAL);
	}
	assert.match(cli(['plan', '--profile', 'lab'], home).stderr, /saved profile "lab" in \S+profiles\.json has the problems above/);
	assert.equal(cli(['profiles', 'list'], home).status, 0);
	assert.deepEqual(readFileSync(file), before);
});
