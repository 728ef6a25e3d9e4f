import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {reconnectAfterInstall, type InstallRebootContext} from '../../source/engine/install-reboot.js';
import type {NodePlan, Plan} from '../../source/model/plan.js';
import type {StateStore} from '../../source/services/state.js';
import {ensureKeyPair} from '../../source/services/ssh-keys.js';
import {skipUnless, tempDir} from '../helpers.js';
import {freePort, hostKey, sshdPrerequisites, startSshd, type LocalSshd} from '../local-sshd.js';

// After nixos-anywhere's reboot the node must present the host key of the install's extra files,
// known before the install starts: checked against a real sshd on 127.0.0.1.

const skip = skipUnless(await sshdPrerequisites());

describe('reconnecting after the install reboots the node', {skip}, () => {
	const dir = tempDir('plasma-install-reboot-');
	const key = path.join(dir, 'id_ed25519');
	let sshd: LocalSshd;
	let otherKey: {path: string; fingerprint: string};
	const lines: string[] = [];

	const context = (hostKeyPub: string, overrides: Partial<InstallRebootContext> = {}): InstallRebootContext => ({
		plan: {ssh: {user: sshd.user, privateKey: key, knownHosts: path.join(dir, 'known_hosts.json')}} as unknown as Plan,
		node: {name: 'node01', sshPort: sshd.port, hostKey: {policy: 'generated'}, files: {hostKeyPub: path.join(dir, 'netboot_host_ed25519_key.pub')}, runtime: {installLog: path.join(dir, 'install.log'), consoleLog: path.join(dir, 'console.log')}} as unknown as NodePlan,
		reboot: {hostKeyPub, restartsQemu: false},
		first: {exited: new Promise(() => undefined)},
		state: {} as StateStore,
		sshTimeoutMs: 10_000,
		log: line => lines.push(line),
		...overrides,
	});

	before(async () => {
		await ensureKeyPair(key, `${key}.pub`, 'plasma-test');
		otherKey = await hostKey(dir, 'extra_files_host_ed25519');
		sshd = await startSshd({port: await freePort(), authorizedKeys: readFileSync(`${key}.pub`, 'utf8')});
	});

	after(async () => {
		await sshd?.stop();
	});

	test('a different host key after the reboot is refused, naming both fingerprints', async () => {
		await assert.rejects(reconnectAfterInstall(context(`${otherKey.path}.pub`)), (error: Error) => {
			assert.match(error.message, new RegExp(`node01 presented host key ${escape(sshd.hostKey.fingerprint)} after the install's reboot, but ${escape(otherKey.fingerprint)} \\(the host key of the install's extra files\\) is expected: refusing to connect`));
			return true;
		});
		assert.ok(lines.some(line => line.includes(`must present ${otherKey.fingerprint}`)), lines.join('\n'));
	});

	test('the key of the extra files is accepted, and only it', async () => {
		const rebooted = await reconnectAfterInstall(context(`${sshd.hostKey.path}.pub`));
		try {
			assert.equal(rebooted.ssh.hostKey, sshd.hostKey.fingerprint);
			assert.equal(rebooted.expected, sshd.hostKey.fingerprint);
			assert.equal(rebooted.ssh.hostKeyTrust, 'generated');
		} finally {
			rebooted.ssh.close();
		}
	});

	test('a QEMU that never goes down for the reboot ends the wait with what it waited for', async () => {
		const started = Date.now();
		await assert.rejects(
			reconnectAfterInstall(context(`${sshd.hostKey.path}.pub`, {reboot: {hostKeyPub: `${sshd.hostKey.path}.pub`, restartsQemu: true}, downTimeoutMs: 300})),
			/node01: its QEMU still runs 0 s after nixos-anywhere ended: waited for the guest to go down for the install's reboot/,
		);
		assert.ok(Date.now() - started < 5000);
	});
});

function escape(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
