import {createHash, generateKeyPairSync, randomBytes} from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import {ProblemError} from '../model/field-error.js';
import {openSshPrivateKey, openSshPublicKey} from '../model/openssh-key.js';
import {writeFileAtomic} from './atomic-file.js';
import {ensureUsableDir} from './owned-dir.js';

const {utils} = ssh2;

// ed25519 keys in OpenSSH format: the profile's client key and one host key
// per node. The guest receives its host key through QEMU fw_cfg, so a node
// keeps the same host key across reboots and the pinned fingerprint holds.

async function exists(file: string): Promise<boolean> {
	return fs.access(file).then(
		() => true,
		() => false,
	);
}

export type KeyPairOptions = {
	// Host keys: one OpenSSH cannot load (written by an older plasma-tui through ssh2's generator)
	// never served a session, so it is drawn again and the reason said. Without it an existing
	// key is kept as it is (the client key may be the operator's own, ssh.keyPath).
	onUnreadable?: (why: string) => void;
};

// Returns true when a new key was written.
export async function ensureKeyPair(privatePath: string, publicPath: string, comment: string, options: KeyPairOptions = {}): Promise<boolean> {
	if (await exists(privatePath)) {
		const text = await fs.readFile(privatePath, 'utf8');
		const unreadable = options.onUnreadable && unreadableKeyReason(text);
		if (!unreadable) {
			if (!(await exists(publicPath))) await writeFileAtomic(publicPath, `${publicKeyOf(text)} ${comment}\n`, 0o644);
			return false;
		}
		options.onUnreadable?.(`${privatePath}: ${unreadable}; a new key was generated`);
	}
	await ensureUsableDir(path.dirname(privatePath));
	const pair = generateKeyPair(comment);
	await writeFileAtomic(privatePath, pair.private, 0o600);
	await writeFileAtomic(publicPath, `${pair.public}\n`, 0o644);
	return true;
}

// DER prefixes of an ed25519 key: PKCS#8 before the 32-byte seed, SPKI before the 32-byte public key.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

// Built from node:crypto's raw key (model/openssh-key.ts), so the public key is always 32 bytes.
// The key is encoded by the generating job itself, as DER: no KeyObject is exported afterwards.
// (Node 20's JWK export of a key from generateKeyPairSync can deadlock: it holds the key's lock
// while allocating, and a garbage collection destroying the finished job takes that lock too.)
export function generateKeyPair(comment: string): {private: string; public: string} {
	const {privateKey, publicKey} = generateKeyPairSync('ed25519', {privateKeyEncoding: {type: 'pkcs8', format: 'der'}, publicKeyEncoding: {type: 'spki', format: 'der'}});
	const seed = rawAfter(privateKey, PKCS8_ED25519, 'PKCS#8');
	const raw = rawAfter(publicKey, SPKI_ED25519, 'SPKI');
	return {private: openSshPrivateKey(seed, raw, comment, randomBytes(4).readUInt32BE()), public: openSshPublicKey(raw, comment)};
}

function rawAfter(der: Buffer, prefix: Buffer, what: string): Buffer {
	if (der.length !== prefix.length + 32 || !der.subarray(0, prefix.length).equals(prefix)) throw new Error(`unexpected ${what} encoding of an ed25519 key (${der.length} bytes)`);
	return Buffer.from(der.subarray(prefix.length));
}

// Why OpenSSH (or ssh2) would refuse this private key, or undefined when it is usable.
export function unreadableKeyReason(privateKeyText: string): string | undefined {
	const parsed = utils.parseKey(privateKeyText);
	if (parsed instanceof Error) return `it does not parse (${parsed.message})`;
	const key = Array.isArray(parsed) ? parsed[0]! : parsed;
	const blob = key.getPublicSSH();
	// ssh-ed25519 string (4 + 11) and a 32-byte key (4 + 32): a shorter one is what OpenSSH calls "error in libcrypto".
	if (key.type === 'ssh-ed25519' && blob.length !== 51) return `its ed25519 public key is ${blob.length - 19} bytes, not 32 (OpenSSH: "error in libcrypto")`;
	return undefined;
}

export function publicKeyOf(privateKeyText: string): string {
	const parsed = utils.parseKey(privateKeyText);
	if (parsed instanceof Error) throw parsed;
	const key = Array.isArray(parsed) ? parsed[0]! : parsed;
	return `${key.type} ${key.getPublicSSH().toString('base64')}`;
}

// Same text as `ssh-keygen -l`: SHA256 of the wire-format key, base64 without padding.
export function fingerprintOfPublicKey(publicKeyLine: string): string {
	const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64');
	return fingerprintOfBlob(blob);
}

export function fingerprintOfBlob(blob: Buffer): string {
	return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

// The generated host key's fingerprint, read before first contact with the node.
export async function fingerprintOfPublicKeyFile(file: string): Promise<string> {
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch (error) {
		throw new ProblemError({message: `the generated host key ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, fix: 'run up: its certificates stage generates the node keys'});
	}
	const blob = Buffer.from(text.trim().split(/\s+/)[1] ?? '', 'base64');
	if (blob.length === 0) throw new ProblemError({message: `${file} holds no public key`, fix: 'remove it and the private key next to it; up generates a new pair'});
	return fingerprintOfBlob(blob);
}
