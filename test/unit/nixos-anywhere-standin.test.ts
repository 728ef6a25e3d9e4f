import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {buildExtraFiles} from '../../source/services/install.js';
import {template, tempDir, planIn} from '../helpers.js';
// @ts-expect-error a plain node program without types
import {extraFilesScript, installedCmdline, parseArgs} from '../../image/nixos-anywhere-standin.mjs';

// The stand-in takes the argv the plan builds for nixos-anywhere, and writes the extra files with their modes.

test('the stand-in reads the argv the plan builds for nixos-anywhere', () => {
	const profile = template('demo-nixos-anywhere');
	const plan = planIn(tempDir('plasma-standin-argv-'), profile);
	const node = plan.nodes[0]!;
	assert.equal(node.install.method, 'nixos-anywhere');
	if (node.install.method !== 'nixos-anywhere') return;
	const options = parseArgs(node.install.argv);
	assert.equal(options.host, '127.0.0.1');
	assert.equal(options.user, 'root');
	assert.equal(options.port, node.sshPort);
	assert.equal(options.identity, plan.ssh.privateKey);
	assert.equal(options.extraFiles, node.install.extraFilesRoot);
	assert.equal(options.flake, `.#${node.name}`);
});

test('the installed command line is the running one, told to start from the disk', () => {
	assert.equal(installedCmdline('BOOT_IMAGE=/vmlinuz console=ttyS0 plasma.hostname=node01 plasma.boot=netboot initrd=/initrd.img\n'), 'console=ttyS0 plasma.hostname=node01 plasma.boot=disk');
});

test('the extra files land under /mnt with their modes: the host key 0600, the secrets directory 0700', async () => {
	const dir = tempDir('plasma-standin-extra-');
	const plan = planIn(dir, template('demo-nixos-anywhere'));
	const node = plan.nodes[0]!;
	if (node.install.method !== 'nixos-anywhere') assert.fail('planned as a nixos-anywhere install');
	for (const file of [node.secrets.ca, node.secrets.cert, node.secrets.key, node.files.clusterConfig, node.files.hostKey, node.files.hostKeyPub]) {
		fs.mkdirSync(path.dirname(file), {recursive: true});
		fs.writeFileSync(file, `${path.basename(file)}\n`);
	}
	await buildExtraFiles(node, node.install);
	const script: string = extraFilesScript(node.install.extraFilesRoot);
	const root = path.join(dir, 'node-root');
	fs.mkdirSync(root);
	// The script writes under /mnt: run it with /mnt pointed at a directory of the test.
	await execa('sh', ['-c', script.replaceAll("'/mnt/", `'${root}/`)]);
	const mode = (file: string) => fs.statSync(path.join(root, file)).mode & 0o777;
	assert.equal(fs.readFileSync(path.join(root, 'etc/ssh/ssh_host_ed25519_key'), 'utf8'), 'ssh_host_ed25519_key\n');
	assert.equal(mode('etc/ssh/ssh_host_ed25519_key'), 0o600);
	assert.equal(mode('etc/ssh'), 0o755);
	assert.equal(mode('etc/plasma/secrets'), 0o700);
	assert.equal(mode(`etc/plasma/secrets/${node.secrets.keyName}`), 0o400);
});
