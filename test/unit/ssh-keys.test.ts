import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createPrivateKey, createPublicKey} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import ssh2 from 'ssh2';
import {openSshPrivateKey, openSshPublicKey} from '../../source/model/openssh-key.js';
import {ensureKeyPair, generateKeyPair, unreadableKeyReason} from '../../source/services/ssh-keys.js';
import {hostTools, skipUnless, tempDir} from '../helpers.js';

const skip = skipUnless(await hostTools({'ssh-keygen': 'openssh-client'}));

// What the guest's sshd does with the key handed over by fw_cfg: load it (ssh-keygen -y loads it the same way).
async function openSshLoads(privateKeyText: string): Promise<{ok: boolean; publicLine: string; error: string}> {
	const file = path.join(tempDir('plasma-key-'), 'key');
	writeFileSync(file, privateKeyText, {mode: 0o600});
	const result = await execa('ssh-keygen', ['-y', '-f', file], {reject: false, timeout: 10_000});
	return {ok: result.exitCode === 0, publicLine: result.stdout.trim(), error: result.stderr.trim()};
}

// An ed25519 key from a fixed seed (PKCS#8 prefix + 32 bytes).
function keyFromSeed(seed: Buffer): {seed: Buffer; publicKey: Buffer} {
	const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
	const publicKey = Buffer.from(createPublicKey(createPrivateKey({key: der, format: 'der', type: 'pkcs8'})).export({format: 'jwk'}).x!, 'base64url');
	return {seed, publicKey};
}

// ssh2's generator wrote such keys about once in 150: its public key lost its leading zero byte,
// and the guest's sshd said `Unable to load host key ...: error in libcrypto` (issue 15, node n7 of 9).
test('a key whose public key starts with a zero byte is written whole and OpenSSH loads it', {skip}, async () => {
	let key = keyFromSeed(Buffer.alloc(32));
	for (let i = 1; key.publicKey[0] !== 0; i++) key = keyFromSeed(Buffer.alloc(32, 0).fill(i % 256, 0, 1).fill(Math.floor(i / 256), 1, 2));
	const privateText = openSshPrivateKey(key.seed, key.publicKey, 'root@node07', 0x1234_5678);
	const loaded = await openSshLoads(privateText);
	assert.ok(loaded.ok, loaded.error);
	assert.equal(loaded.publicLine.split(' ').slice(0, 2).join(' '), openSshPublicKey(key.publicKey, ''));
	assert.equal(unreadableKeyReason(privateText), undefined);
});

test('every generated ed25519 key has a 32-byte public key and reads back (3,000 in a row)', () => {
	for (let i = 0; i < 3000; i++) {
		const pair = generateKeyPair('plasma-tui test');
		const parsed = ssh2.utils.parseKey(pair.private);
		assert.ok(!(parsed instanceof Error), `key ${i}: ${parsed instanceof Error ? parsed.message : ''}`);
		assert.equal(Buffer.from(pair.public.split(' ')[1]!, 'base64').length, 51, `key ${i}: ${pair.public}`);
	}
});

// Node 20's JWK export of an ed25519 key holds the key's lock while it allocates; a garbage
// collection then destroying the generateKeyPairSync job that made the key takes the same lock,
// and the process hangs for good (seen twice in CI as a unit group that never ended). A small
// young generation makes collections frequent: without the fix 6 runs in 8 hung (measured).
test('drawing 100,000 keys in a row finishes (no deadlock inside node:crypto)', async () => {
	const fixture = path.join(import.meta.dirname, '..', 'fixtures', 'generate-keys.ts');
	const result = await execa(process.execPath, ['--max-semi-space-size=1', '--import', 'tsx', fixture, '100000'], {reject: false, timeout: 90_000});
	assert.equal(result.timedOut, false, 'still drawing keys after 90 s: a deadlock (100,000 keys take 6-20 s)');
	assert.equal(result.stdout.trim(), 'generated 100000', result.stderr);
});

test('generated keys load in OpenSSH with the same public key', {skip}, async () => {
	for (let i = 0; i < 20; i++) {
		const pair = generateKeyPair(`root@node0${i}`);
		const loaded = await openSshLoads(pair.private);
		assert.ok(loaded.ok, loaded.error);
		assert.equal(loaded.publicLine.split(' ').slice(0, 2).join(' '), pair.public.split(' ').slice(0, 2).join(' '));
	}
});

// A work directory from before the fix keeps its host key across runs: a broken one must not be kept.
test('an existing host key OpenSSH cannot load is replaced, and said', {skip}, async () => {
	let broken = '';
	for (let i = 0; i < 5000 && !broken; i++) {
		const pair = ssh2.utils.generateKeyPairSync('ed25519', {comment: 'old'});
		if (Buffer.from(pair.public.split(' ')[1]!, 'base64').length !== 51) broken = pair.private;
	}
	assert.ok(broken, "ssh2's generator made no short key in 5,000 (fixed upstream?)");
	assert.equal((await openSshLoads(broken)).ok, false);
	const dir = tempDir('plasma-hostkey-');
	const key = path.join(dir, 'ssh_host_ed25519_key');
	writeFileSync(key, broken, {mode: 0o600});
	writeFileSync(`${key}.pub`, 'ssh-ed25519 AAAA old\n');
	const said: string[] = [];
	assert.equal(await ensureKeyPair(key, `${key}.pub`, 'root@node07', {onUnreadable: why => said.push(why)}), true);
	assert.match(said.join(), /ssh_host_ed25519_key: (it does not parse|its ed25519 public key is 31 bytes).*a new key was generated/);
	const loaded = await openSshLoads(readFileSync(key, 'utf8'));
	assert.ok(loaded.ok, loaded.error);
	assert.equal(readFileSync(`${key}.pub`, 'utf8').split(' ').slice(0, 2).join(' '), loaded.publicLine.split(' ').slice(0, 2).join(' '));
	// A readable key is kept as it is.
	assert.equal(await ensureKeyPair(key, `${key}.pub`, 'root@node07', {onUnreadable: why => said.push(why)}), false);
	assert.equal(said.length, 1);
});
