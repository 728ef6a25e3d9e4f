import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, statSync, existsSync} from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {fingerprintOfPublicKey} from '../../source/services/ssh-keys.js';
import {planIn, template, tempDir} from '../helpers.js';

test('every node gets secrets, cluster config, hosts, NixOS module and disko layout', async () => {
	const profile = template('plasmacloud-3node');
	const plan = planIn(tempDir(), profile);
	const report = await writeArtifacts(plan);
	assert.equal(report.unchanged.length, 0);
	for (const node of plan.nodes) {
		assert.deepEqual(
			['ca.crt', `${node.name}.crt`, `${node.name}.key`, 'cluster-config.json'].map(f => existsSync(path.join(node.secrets.dir, f))),
			[true, true, true, true],
		);
		const config = JSON.parse(readFileSync(node.files.clusterConfig, 'utf8'));
		// The T036 naming trap: the config names exactly the files that were written.
		assert.deepEqual(config.tls, {
			ca_cert_path: `/etc/nixos/secrets/${path.basename(node.secrets.ca)}`,
			node_cert_path: `/etc/nixos/secrets/${path.basename(node.secrets.cert)}`,
			node_key_path: `/etc/nixos/secrets/${path.basename(node.secrets.key)}`,
		});
		assert.equal(config.node_id, node.name);
		assert.equal(config.bootstrap, true);
		assert.deepEqual(config.peers.map((p: {hostname: string; ip: string}) => `${p.hostname}=${p.ip}`), ['node01=192.168.100.11', 'node02=192.168.100.12', 'node03=192.168.100.13']);
		const hosts = readFileSync(node.files.hosts, 'utf8');
		for (const other of plan.nodes) assert.match(hosts, new RegExp(`^${other.ip.replaceAll('.', '\\.')} ${other.hostname} ${other.fqdn}$`, 'm'));
		const nix = readFileSync(node.files.nixosModule, 'utf8');
		assert.match(nix, new RegExp(`networking.hostName = "${node.hostname}";`));
		assert.match(nix, new RegExp(`address = "${node.ip.replaceAll('.', '\\.')}"; prefixLength = 24;`));
		for (const other of plan.nodes) assert.match(nix, new RegExp(`"${other.ip.replaceAll('.', '\\.')}" = \\[ "${other.hostname}"`));
		assert.match(nix, new RegExp(`key = "/etc/nixos/secrets/${node.name}\\.key";`));
		const disko = readFileSync(node.files.disko, 'utf8');
		assert.match(disko, /size = "512M";/);
		assert.match(disko, /size = "81510M";/);
		assert.equal(statSync(node.files.hostKey).mode & 0o777, 0o600);
		const derived = (await execa('ssh-keygen', ['-y', '-f', node.files.hostKey])).stdout;
		assert.equal(fingerprintOfPublicKey(derived), fingerprintOfPublicKey(readFileSync(node.files.hostKeyPub, 'utf8')));
	}
	assert.equal(statSync(plan.ssh.privateKey).mode & 0o777, 0o600);
	const keygen = (await execa('ssh-keygen', ['-l', '-f', plan.ssh.publicKey])).stdout;
	assert.ok(keygen.includes(fingerprintOfPublicKey(readFileSync(plan.ssh.publicKey, 'utf8'))), keygen);
});

test('writing twice changes nothing that is still valid', async () => {
	const profile = template();
	const plan = planIn(tempDir(), profile);
	await writeArtifacts(plan);
	const files = [plan.tls.caCert, plan.ssh.privateKey, ...plan.nodes.flatMap(n => [n.secrets.cert, n.secrets.key, n.files.clusterConfig, n.files.hosts, n.files.nixosModule, n.files.disko, n.files.hostKey])];
	const before = files.map(f => [readFileSync(f, 'utf8'), statSync(f).mtimeMs]);
	const events: string[] = [];
	const second = await writeArtifacts(plan, {onEvent: event => event.type === 'log' && events.push(event.message)});
	assert.deepEqual(second.written, []);
	assert.equal(events.length, second.unchanged.length);
	assert.ok(events.every(line => line.startsWith('unchanged ')), events.join('\n'));
	assert.deepEqual(files.map(f => [readFileSync(f, 'utf8'), statSync(f).mtimeMs]), before);
});
