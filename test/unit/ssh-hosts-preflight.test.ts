import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {buildPlan, type Plan} from '../../source/model/plan.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {onSshHosts} from '../../source/model/ssh-hosts-profile.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {newHostKeys, preflightHosts} from '../../source/services/ssh-hosts-preflight.js';
import {reachNodes} from '../../source/engine/validate-running.js';
import {existsSync} from 'node:fs';
import {ensureKeyPair} from '../../source/services/ssh-keys.js';
import {skipUnless, template, tempDir} from '../helpers.js';
import {freePort, sshdPrerequisites, startSshd, type LocalSshd} from '../local-sshd.js';

// Preflight of an existing machine, against a real OpenSSH sshd on 127.0.0.1 standing in for it.

const skip = skipUnless(await sshdPrerequisites());

describe('ssh-hosts preflight against a real sshd', {skip}, () => {
	const dir = tempDir('plasma-hosts-pre-');
	const key = path.join(dir, 'id_ed25519');
	let sshd: LocalSshd;

	function planFor(edit: (profile: Profile) => void = () => undefined): Plan {
		const vm = template('demo');
		vm.nodes = vm.nodes.slice(0, 1);
		const profile = onSshHosts(vm, {node01: {host: '127.0.0.1', port: sshd.port, user: sshd.user}});
		profile.workDir = path.join(dir, `w${Math.random().toString(36).slice(2, 8)}`);
		profile.ssh.keyPath = key;
		profile.target = {kind: 'ssh-hosts', connectTimeoutSec: 3, minFreeDiskMiB: 1};
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

	test('the pinned key passes; the OS and free disk are read', async () => {
		const result = await preflightHosts(planFor(p => (p.ssh.hostKeys = {node01: sshd.hostKey.fingerprint})));
		for (const ssh of result.sessions.values()) ssh.close();
		assert.deepEqual(result.findings.filter(f => f.status !== 'ok'), []);
		assert.match(result.findings.find(f => f.id === 'os:node01')!.message, /^node01: Linux /);
		assert.match(result.findings.find(f => f.id === 'disk:node01')!.message, /MiB free on \//);
		assert.deepEqual(result.accepted, []);
	});

	test('a wrong pinned key is refused naming both fingerprints', async () => {
		const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
		const result = await preflightHosts(planFor(p => (p.ssh.hostKeys = {node01: wrong})));
		const finding = result.findings.find(f => f.id === 'host:node01')!;
		assert.equal(finding.status, 'fail');
		assert.ok(finding.message.includes(wrong) && finding.message.includes(sshd.hostKey.fingerprint), finding.message);
		assert.equal(result.sessions.size, 0);
	});

	test('no pinned key: refused with the key the machine presents; --accept-new-host-keys pins it and says so', async () => {
		const plan = planFor();
		const refused = await preflightHosts(plan);
		const finding = refused.findings.find(f => f.id === 'host:node01')!;
		assert.equal(finding.status, 'fail');
		assert.ok(finding.message.includes(`it presents ${sshd.hostKey.fingerprint}`), finding.message);
		assert.match(finding.fix ?? '', /--accept-new-host-keys/);

		const accepted = await preflightHosts(plan, {acceptNewHostKeys: true});
		for (const ssh of accepted.sessions.values()) ssh.close();
		assert.deepEqual(accepted.accepted, [{node: 'node01', where: `${sshd.user}@127.0.0.1:${sshd.port}`, fingerprint: sshd.hostKey.fingerprint}]);
		// Pinned now: the next run needs no flag and accepts nothing new.
		const again = await preflightHosts(plan);
		for (const ssh of again.sessions.values()) ssh.close();
		assert.equal(again.findings.find(f => f.id === 'host:node01')!.status, 'ok');
		assert.deepEqual(again.accepted, []);
	});

	test('validate and watch (reachNodes) refuse an unpinned machine, naming its key and the fix, and pin nothing', async () => {
		const plan = planFor();
		const reached = await reachNodes(plan, plan.nodes, {timeoutMs: 5000});
		for (const ssh of reached.opened) ssh.close();
		assert.equal(reached.connections.size, 0);
		const message = reached.unreachable.node01 ?? '';
		assert.ok(message.includes('node01') && message.includes(sshd.hostKey.fingerprint), message);
		assert.match(message, /ssh\.hostKeys/);
		assert.match(message, /up --accept-new-host-keys/);
		assert.equal(existsSync(plan.ssh.knownHosts), false, 'nothing pinned');
		// Pinned in the profile: the same path connects.
		const pinned = planFor(p => (p.ssh.hostKeys = {node01: sshd.hostKey.fingerprint}));
		const ok = await reachNodes(pinned, pinned.nodes, {timeoutMs: 5000});
		for (const ssh of ok.opened) ssh.close();
		assert.equal(ok.connections.size, 1, JSON.stringify(ok.unreachable));
	});

	test('a closed port is named unreachable within the connect timeout', async () => {
		const closed = await freePort();
		const started = Date.now();
		const result = await preflightHosts(planFor(p => (p.nodes[0]!.ssh = {host: '127.0.0.1', port: closed, user: sshd.user})), {acceptNewHostKeys: true});
		const finding = result.findings.find(f => f.id === 'host:node01')!;
		assert.equal(finding.status, 'fail');
		assert.match(finding.message, new RegExp(`node01: ${sshd.user}@127\\.0\\.0\\.1:${closed} is unreachable \\(connect timeout 3 s\\)`));
		assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
	});

	test('through a bastion: both host keys pinned, the machine reached through its tunnel; an unpinned or wrong bastion key is refused before the machine is touched', async () => {
		// The same sshd is the bastion and, through its tunnel to 127.0.0.1, the machine.
		const jump = {host: '127.0.0.1', port: sshd.port, user: sshd.user};
		const key = sshd.hostKey.fingerprint;
		const via = (hostKey?: string) => planFor(p => {
			p.nodes[0]!.ssh = {host: '127.0.0.1', port: sshd.port, user: sshd.user, jump: {...jump, ...(hostKey ? {hostKey} : {})}};
			p.ssh.hostKeys = {node01: key};
		});
		const pinned = await preflightHosts(via(key));
		for (const ssh of pinned.sessions.values()) ssh.close();
		assert.deepEqual(pinned.findings.filter(f => f.status !== 'ok'), []);
		assert.match(pinned.findings[0]!.message, new RegExp(`via ${sshd.user}@127\\.0\\.0\\.1:${sshd.port} answers .*through its bastion`));
		assert.deepEqual(pinned.accepted, []);

		const unpinned = await preflightHosts(via());
		assert.equal(unpinned.sessions.size, 0);
		assert.match(unpinned.findings[0]!.message, new RegExp(`no host key is pinned for its bastion ${sshd.user}@127\\.0\\.0\\.1:${sshd.port}; it presents ${key.replace(/[+/]/g, '\\$&')}`));
		assert.match(unpinned.findings[0]!.fix ?? '', /nodes\[0\]\.ssh\.jump\.hostKey/);

		const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
		const refused = await preflightHosts(via(wrong), {acceptNewHostKeys: true});
		assert.equal(refused.sessions.size, 0);
		assert.ok(refused.findings[0]!.message.includes(wrong) && refused.findings[0]!.message.includes(key), refused.findings[0]!.message);

		// --accept-new-host-keys pins the bastion's first key too, and says so.
		const plan = via();
		const accepted = await preflightHosts(plan, {acceptNewHostKeys: true});
		for (const ssh of accepted.sessions.values()) ssh.close();
		assert.equal(accepted.findings[0]!.status, 'ok', accepted.findings[0]!.message);
		assert.deepEqual(accepted.accepted, [{node: `jump ${sshd.user}@127.0.0.1:${sshd.port}`, where: `${sshd.user}@127.0.0.1:${sshd.port}`, fingerprint: key}]);
		assert.equal(JSON.parse(readFileSync(plan.ssh.knownHosts, 'utf8'))[`jump ${sshd.user}@127.0.0.1:${sshd.port}`].fingerprint, key);
	});

	test('a bastion that cannot reach the machine is named, within the connect timeout', async () => {
		const closed = await freePort();
		const started = Date.now();
		const result = await preflightHosts(planFor(p => {
			p.nodes[0]!.ssh = {host: '127.0.0.1', port: closed, user: sshd.user, jump: {host: '127.0.0.1', port: sshd.port, user: sshd.user, hostKey: sshd.hostKey.fingerprint}};
		}), {acceptNewHostKeys: true});
		const finding = result.findings.find(f => f.id === 'host:node01')!;
		assert.equal(finding.status, 'fail');
		assert.match(finding.message, new RegExp(`127\\.0\\.0\\.1:${closed} through the bastion ${sshd.user}@127\\.0\\.0\\.1:${sshd.port}`));
		assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
	});

	test('nixos-anywhere: the install disk must exist on the machine and be as big as nodes[].diskGiB says', async t => {
		// A block device of this host (the sshd standing in for the machine runs here), its size read from sysfs.
		const name = readdirSync('/sys/class/block').find(d => existsSync(`/dev/${d}`) && Number(readFileSync(`/sys/class/block/${d}/size`, 'utf8')) > 2 * 2 ** 21);
		if (!name) return t.skip('no block device of 1 GiB or more on this host');
		const gib = Math.floor((Number(readFileSync(`/sys/class/block/${name}/size`, 'utf8')) * 512) / 2 ** 30);
		const run = async (installDisk: string, diskGiB: number) => {
			const result = await preflightHosts(planFor(p => {
				p.ssh.hostKeys = {node01: sshd.hostKey.fingerprint};
				p.install.method = 'nixos-anywhere';
				p.install.nixosAnywhere.allowWipe = true;
				Object.assign(p.nodes[0]!, {installDisk, diskGiB});
			}));
			for (const ssh of result.sessions.values()) ssh.close();
			return result.findings.find(f => f.id === 'install-disk:node01')!;
		};
		const fits = await run(`/dev/${name}`, gib);
		assert.equal(fits.status, 'ok', fits.message);
		assert.match(fits.message, new RegExp(`/dev/${name} is ${gib} GiB`));
		const small = await run(`/dev/${name}`, gib + 1);
		assert.equal(small.status, 'fail');
		assert.match(small.message, new RegExp(`is ${gib} GiB, smaller than nodes\\[\\]\\.diskGiB ${gib + 1} GiB`));
		const missing = await run('/dev/disk/by-id/plasma-no-such-disk', 2);
		assert.equal(missing.status, 'fail');
		assert.match(missing.message, /is not a block device/);
	});

	test('first contact from the TUI: newHostKeys lists the keys (bastion too) and pins nothing; only the approved key is accepted, then pinned', async () => {
		const key = sshd.hostKey.fingerprint;
		const jumpName = `jump ${sshd.user}@127.0.0.1:${sshd.port}`;
		const plan = planFor(p => (p.nodes[0]!.ssh = {host: '127.0.0.1', port: sshd.port, user: sshd.user, jump: {host: '127.0.0.1', port: sshd.port, user: sshd.user}}));
		assert.deepEqual(await newHostKeys(plan), [
			{name: jumpName, where: `${sshd.user}@127.0.0.1:${sshd.port}`, fingerprint: key},
			{name: 'node01', where: `${sshd.user}@127.0.0.1:${sshd.port} via ${sshd.user}@127.0.0.1:${sshd.port}`, fingerprint: key},
		]);
		assert.equal(existsSync(plan.ssh.knownHosts), false, 'listing pins nothing');

		const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
		const refused = await preflightHosts(plan, {approvedHostKeys: {[jumpName]: key, node01: wrong}});
		assert.equal(refused.sessions.size, 0);
		assert.ok(refused.findings[0]!.message.includes(wrong) && refused.findings[0]!.message.includes(key), refused.findings[0]!.message);
		const pinsNow = existsSync(plan.ssh.knownHosts) ? JSON.parse(readFileSync(plan.ssh.knownHosts, 'utf8')) : {};
		assert.equal(pinsNow.node01, undefined, 'a key the operator did not approve is never pinned');

		const accepted = await preflightHosts(plan, {approvedHostKeys: {[jumpName]: key, node01: key}});
		for (const ssh of accepted.sessions.values()) ssh.close();
		assert.equal(accepted.findings[0]!.status, 'ok', accepted.findings[0]!.message);
		assert.match(accepted.findings[0]!.message, /accepted now: confirmed by the operator/);
		const pins = JSON.parse(readFileSync(plan.ssh.knownHosts, 'utf8'));
		assert.equal(pins.node01.fingerprint, key);
		assert.equal(pins[jumpName].fingerprint, key);
		assert.deepEqual(await newHostKeys(plan), [], 'nothing left to ask');
	});
});
