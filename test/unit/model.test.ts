import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parseProfile} from '../../source/model/parse-profile.js';
import {validateProfile} from '../../source/model/profile-rules.js';
import {resolveNodes, withNodeCount} from '../../source/model/resolve.js';
import {buildPlan, qemuValue} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {template} from '../helpers.js';

function errorsFor(mutate: (p: Profile) => void): Array<{field: string; message: string; fix: string}> {
	const profile = template();
	mutate(profile);
	return validateProfile(profile);
}

function fieldsOf(errors: Array<{field: string}>): string[] {
	return errors.map(e => e.field);
}

test('templates validate and resolve the T036 layout', () => {
	const nodes = resolveNodes(template('plasmacloud-3node'));
	assert.deepEqual(
		nodes.map(n => [n.name, n.ip, n.mac, n.sshPort, n.vcpus, n.memoryMiB, n.diskGiB]),
		[
			['node01', '192.168.100.11', '52:54:00:00:01:01', 2201, 8, 16384, 100],
			['node02', '192.168.100.12', '52:54:00:00:01:02', 2202, 8, 16384, 100],
			['node03', '192.168.100.13', '52:54:00:00:01:03', 2203, 8, 16384, 100],
		],
	);
});

test('schema errors name the field', () => {
	const result = parseProfile({name: 'x', nodes: [{name: 'node01', vcpus: 'two'}], boot: {accel: 'warp'}});
	assert.equal(result.ok, false);
	assert.ok(!result.ok);
	const fields = fieldsOf(result.errors);
	assert.ok(fields.includes('nodes[0].vcpus'), fields.join());
	assert.ok(fields.includes('boot.accel'), fields.join());
	assert.match(result.errors.find(e => e.field === 'boot.accel')!.message, /"auto", "kvm", "tcg"/);
});

test('a newer profile version is refused with the fix', () => {
	const result = parseProfile({...template(), version: 9});
	assert.ok(!result.ok && result.errors[0]!.field === 'version' && /upgrade/.test(result.errors[0]!.fix));
});

test('IP errors: outside the subnet, network and broadcast address, not an IP', () => {
	const outside = errorsFor(p => (p.nodes[0]!.ip = '10.0.0.5'));
	assert.deepEqual(outside[0], {
		field: 'nodes[0].ip',
		message: '10.0.0.5 is outside the subnet 192.168.100.0/24',
		fix: 'choose an address in 192.168.100.1-192.168.100.254, or change network.subnet',
	});
	assert.match(errorsFor(p => (p.nodes[1]!.ip = '192.168.100.0'))[0]!.message, /network address/);
	assert.match(errorsFor(p => (p.nodes[2]!.ip = '192.168.100.255'))[0]!.message, /broadcast address/);
	assert.match(errorsFor(p => (p.nodes[0]!.ip = '192.168.100.300'))[0]!.message, /not an IPv4 address/);
	assert.match(errorsFor(p => (p.network.subnet = '192.168.100.5/24'))[0]!.field, /network.subnet/);
});

test('duplicates of IP, MAC, hostname and SSH port name the second node', () => {
	const dupIp = errorsFor(p => ((p.nodes[0]!.ip = '192.168.100.20'), (p.nodes[2]!.ip = '192.168.100.20')));
	assert.deepEqual(fieldsOf(dupIp), ['nodes[2].ip']);
	assert.match(dupIp[0]!.message, /node01 has it already/);
	assert.deepEqual(fieldsOf(errorsFor(p => ((p.nodes[1]!.mac = '52:54:00:aa:00:01'), (p.nodes[2]!.mac = '52:54:00:AA:00:01')))), ['nodes[2].mac']);
	assert.deepEqual(fieldsOf(errorsFor(p => (p.nodes[1]!.hostname = 'node01'))), ['nodes[1].hostname']);
	assert.deepEqual(fieldsOf(errorsFor(p => ((p.nodes[0]!.sshPort = 2300), (p.nodes[1]!.sshPort = 2300)))), ['nodes[1].sshPort']);
});

test('MAC, hostname, port and size errors', () => {
	assert.match(errorsFor(p => (p.nodes[0]!.mac = '52:54:00:zz:00:01'))[0]!.message, /not a MAC address/);
	const multicast = errorsFor(p => (p.nodes[0]!.mac = '01:00:5e:00:00:01'))[0]!;
	assert.equal(multicast.field, 'nodes[0].mac');
	assert.match(multicast.message, /multicast/);
	assert.match(errorsFor(p => (p.nodes[0]!.hostname = 'Node_01'))[0]!.message, /RFC 1123/);
	assert.match(errorsFor(p => (p.nodes[0]!.hostname = '-node'))[0]!.message, /RFC 1123/);
	const low = errorsFor(p => (p.nodes[0]!.sshPort = 22))[0]!;
	assert.equal(low.field, 'nodes[0].sshPort');
	assert.match(low.fix, /1024 to 65535/);
	assert.deepEqual(fieldsOf(errorsFor(p => (p.nodes[1]!.vcpus = 0))), ['nodes[1].vcpus']);
	assert.deepEqual(fieldsOf(errorsFor(p => (p.defaults.memoryMiB = -5))), ['defaults.memoryMiB', 'defaults.memoryMiB', 'defaults.memoryMiB']);
	assert.deepEqual(fieldsOf(errorsFor(p => (p.nodes[0]!.diskGiB = 0))), ['nodes[0].diskGiB']);
});

test('hostile text is shown printable in errors', () => {
	const error = errorsFor(p => (p.nodes[0]!.hostname = 'a\nb$(reboot)'))[0]!;
	assert.match(error.message, /a\\x0ab\$\(reboot\)/);
	assert.doesNotMatch(error.message, /\n/);
});

test('auto-assignment follows node position and skips values taken by overrides', () => {
	const profile = template();
	profile.nodes[0]!.ip = '192.168.100.12';
	profile.nodes[0]!.sshPort = 2242;
	const nodes = resolveNodes(profile);
	assert.deepEqual(nodes.map(n => n.ip), ['192.168.100.12', '192.168.100.13', '192.168.100.14']);
	assert.deepEqual(nodes.map(n => n.sshPort), [2242, 2243, 2244]);
	// An override in the middle leaves the others where they were.
	const middle = template();
	middle.nodes[1]!.ip = '192.168.100.99';
	assert.deepEqual(resolveNodes(middle).map(n => n.ip), ['192.168.100.11', '192.168.100.99', '192.168.100.13']);
	assert.deepEqual(validateProfile(profile), []);
});

test('MACs are deterministic per profile and differ between profiles', () => {
	const a = resolveNodes(template()).map(n => n.mac);
	assert.deepEqual(resolveNodes(template()).map(n => n.mac), a);
	const other = template();
	other.name = 'other';
	assert.notDeepEqual(resolveNodes(other).map(n => n.mac), a);
	for (const mac of a) assert.match(mac, /^52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:0[1-3]$/);
});

test('changing the node count keeps the overrides of the remaining nodes', () => {
	let profile = template();
	profile.nodes[1]!.ip = '192.168.100.50';
	profile.nodes[1]!.hostname = 'db';
	profile = withNodeCount(profile, 5);
	assert.equal(profile.nodes.length, 5);
	assert.equal(profile.nodes[1]!.ip, '192.168.100.50');
	assert.deepEqual(profile.nodes.map(n => n.role), ['control-plane', 'control-plane', 'control-plane', 'worker', 'worker']);
	profile = withNodeCount(profile, 2);
	assert.deepEqual(profile.nodes.map(n => n.name), ['node01', 'node02']);
	assert.equal(profile.nodes[1]!.hostname, 'db');
	assert.deepEqual(validateProfile(profile), []);
	assert.deepEqual(fieldsOf(validateProfile(withNodeCount(profile, 17))).filter(f => f === 'nodes'), ['nodes']);
});

test('the plan decides file names once and the QEMU arguments use them', () => {
	const profile = template();
	profile.tls.fileNames = {ca: 'root-ca.pem', cert: '{node}-cert.pem', key: '{node}-key.pem'};
	const plan = buildPlan(profile, {clustersDir: '/w', imageDir: '/img', home: '/h'});
	const node = plan.nodes[1]!;
	assert.equal(node.secrets.cert, '/w/demo/nodes/node02/secrets/node02-cert.pem');
	assert.equal(node.secrets.remoteKey, '/etc/plasma/secrets/node02-key.pem');
	assert.equal(node.secrets.remoteCa, '/etc/plasma/secrets/root-ca.pem');
	const args = node.qemuArgs;
	const at = (flag: string) => args[args.indexOf(flag) + 1];
	assert.equal(at('-kernel'), '/img/vmlinuz');
	assert.equal(at('-accel'), 'tcg');
	assert.match(at('-append')!, /plasma\.hostname=node02 plasma\.ip=192\.168\.100\.12\/24 plasma\.mac=52:54:00:[0-9a-f:]+:02/);
	assert.ok(args.includes('user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:2242-:22'));
	assert.ok(args.includes(`virtio-net-pci,netdev=cluster,mac=${node.mac}`));
	assert.ok(args.some(a => a.startsWith('socket,id=console,path=/w/demo/run/node02/console.sock,server=on,wait=off,logfile=')));
	assert.deepEqual(plan.stages, ['preflight', 'image', 'certificates', 'boot', 'install', 'validate']);
	assert.equal(buildPlan(profile, {clustersDir: '/w', imageDir: '/img', home: '/h', accel: 'kvm'}).nodes[0]!.qemuArgs.includes('kvm'), true);
});

test('commas in paths are doubled for QEMU and long socket paths are a plan problem', () => {
	assert.equal(qemuValue('/a,b/c'), '/a,,b/c');
	const profile = template();
	profile.workDir = `/tmp/${'x'.repeat(100)}`;
	const plan = buildPlan(profile, {clustersDir: '/w', imageDir: '/img', home: '/h'});
	assert.equal(plan.problems[0]!.field, 'workDir');
});
