import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {downSshHosts, hostsDownInventory} from '../../source/engine/down-ssh-hosts.js';
import {buildPlan, type Plan} from '../../source/model/plan.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {onSshHosts} from '../../source/model/ssh-hosts-profile.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {ensureKeyPair} from '../../source/services/ssh-keys.js';
import {skipUnless, template, tempDir} from '../helpers.js';
import {freePort, sshdPrerequisites, startSshd, type LocalSshd} from '../local-sshd.js';

// `down` on an existing machine, against a real OpenSSH sshd on 127.0.0.1: the
// "machine" is this host, so everything it touches lives in a temp directory.

const skip = skipUnless(await sshdPrerequisites());

describe('ssh-hosts down against a real sshd', {skip}, () => {
	const dir = tempDir('plasma-hosts-down-');
	const key = path.join(dir, 'id_ed25519');
	const remote = path.join(dir, 'machine');
	const hostsFile = path.join(remote, 'hosts');
	let sshd: LocalSshd;

	function planFor(edit: (profile: Profile) => void = () => undefined): Plan {
		const vm = template('demo');
		vm.nodes = vm.nodes.slice(0, 1);
		const profile = onSshHosts(vm, {node01: {host: '127.0.0.1', port: sshd.port, user: sshd.user}}, {node01: sshd.hostKey.fingerprint});
		profile.workDir = path.join(dir, 'work');
		profile.ssh.keyPath = key;
		profile.tls.remoteDir = path.join(remote, 'secrets');
		profile.install.push.files = [{src: key, dest: path.join(remote, 'app.conf'), mode: '0644'}];
		profile.install.push.uninstall = [`rm -f ${path.join(remote, 'service-{name}.running')}`];
		profile.target = {kind: 'ssh-hosts', connectTimeoutSec: 5, minFreeDiskMiB: 1};
		edit(profile);
		const parsed = parseProfile(JSON.parse(JSON.stringify(profile)));
		assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
		return buildPlan(parsed.profile, {clustersDir: dir, imageDir: dir, home: dir});
	}

	before(async () => {
		await ensureKeyPair(key, `${key}.pub`, 'plasma-test');
		sshd = await startSshd({port: await freePort(), authorizedKeys: readFileSync(`${key}.pub`, 'utf8')});
	});

	after(async () => {
		await sshd?.stop();
	});

	test('stops what the install started, removes what the push put there and the hosts block, keeps the rest', async () => {
		mkdirSync(path.join(remote, 'secrets'), {recursive: true});
		writeFileSync(path.join(remote, 'secrets', 'node01.key'), 'secret');
		writeFileSync(path.join(remote, 'app.conf'), 'pushed');
		writeFileSync(path.join(remote, 'service-node01.running'), 'pid');
		writeFileSync(path.join(remote, 'keep.me'), 'not ours');
		writeFileSync(hostsFile, '127.0.0.1 localhost\n# BEGIN plasma-tui\n192.168.100.11 node01\n# END plasma-tui\n10.0.0.9 printer\n');
		const plan = planFor();
		const inventory = hostsDownInventory(plan).join('\n');
		assert.match(inventory, new RegExp(`\\$ rm -f ${remote}/service-'node01'\\.running`));
		assert.match(inventory, /remove the plasma-tui block of \/etc\/hosts/);

		const [report] = await downSshHosts(plan, 'demo', {hostsFile});
		assert.deepEqual(report!.failed, []);
		assert.ok(!existsSync(path.join(remote, 'service-node01.running')), 'the uninstall command ran');
		assert.ok(!existsSync(path.join(remote, 'secrets')), 'the secrets directory is gone');
		assert.ok(!existsSync(path.join(remote, 'app.conf')), 'the pushed file is gone');
		assert.ok(existsSync(path.join(remote, 'keep.me')), 'what the push did not put there stays');
		assert.equal(readFileSync(hostsFile, 'utf8'), '127.0.0.1 localhost\n10.0.0.9 printer\n');
	});

	test('a machine whose host key does not match is not touched, and says why', async () => {
		writeFileSync(path.join(remote, 'service-node01.running'), 'pid');
		const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
		const [report] = await downSshHosts(planFor(p => (p.ssh.hostKeys = {node01: wrong})), 'demo', {hostsFile});
		assert.equal(report!.done.length, 0);
		assert.ok(report!.failed[0]!.includes(wrong) && report!.failed[0]!.includes(sshd.hostKey.fingerprint), report!.failed[0]);
		assert.ok(existsSync(path.join(remote, 'service-node01.running')));
	});
});
