import {createHash} from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import {ProblemError} from '../model/field-error.js';
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

// Returns true when a new key was written.
export async function ensureKeyPair(privatePath: string, publicPath: string, comment: string): Promise<boolean> {
	if (await exists(privatePath)) {
		if (!(await exists(publicPath))) await writeFileAtomic(publicPath, `${publicKeyOf(await fs.readFile(privatePath, 'utf8'))} ${comment}\n`, 0o644);
		return false;
	}
	await ensureUsableDir(path.dirname(privatePath));
	const pair = generateKeyPair(comment);
	await writeFileAtomic(privatePath, pair.private, 0o600);
	await writeFileAtomic(publicPath, `${pair.public}\n`, 0o644);
	return true;
}

// ssh2's generator writes a key its own parser (and so the SSH client) rejects about once in
// 300 ("Malformed OpenSSH private key", ssh2 #1390 / #1513): such a key is drawn again.
export function generateKeyPair(comment: string): {private: string; public: string} {
	for (let attempt = 0; attempt < 20; attempt++) {
		const pair = utils.generateKeyPairSync('ed25519', {comment});
		if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
	}
	throw new ProblemError({message: 'ssh2 made 20 ed25519 keys in a row that it cannot read back', fix: 'update the ssh2 package'});
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
