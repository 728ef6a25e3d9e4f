// An ed25519 key pair in OpenSSH's own formats (PROTOCOL.key), built from the
// raw 32-byte seed and public key. Not ssh2's generator: it strips leading zero
// bytes from the public key, so about one key in 150 holds a 31-byte public key
// that OpenSSH refuses ("Unable to load host key ...: error in libcrypto").

const KEY_TYPE = 'ssh-ed25519';
const ED25519_BYTES = 32;

function sshString(data: Buffer | string): Buffer {
	const bytes = typeof data === 'string' ? Buffer.from(data) : data;
	const length = Buffer.alloc(4);
	length.writeUInt32BE(bytes.length);
	return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
	const out = Buffer.alloc(4);
	out.writeUInt32BE(value);
	return out;
}

function checkLengths(seed: Buffer, publicKey: Buffer): void {
	if (seed.length !== ED25519_BYTES || publicKey.length !== ED25519_BYTES) {
		throw new RangeError(`an ed25519 seed and public key are ${ED25519_BYTES} bytes each (got ${seed.length} and ${publicKey.length})`);
	}
}

// The wire-format public key: what `ssh-ed25519 <base64>` carries and fingerprints hash.
export function ed25519PublicBlob(publicKey: Buffer): Buffer {
	return Buffer.concat([sshString(KEY_TYPE), sshString(publicKey)]);
}

export function openSshPublicKey(publicKey: Buffer, comment: string): string {
	return `${KEY_TYPE} ${ed25519PublicBlob(publicKey).toString('base64')}${comment ? ` ${comment}` : ''}`;
}

// `checkInt` is random in a real key (it detects a wrong passphrase); any value is valid unencrypted.
export function openSshPrivateKey(seed: Buffer, publicKey: Buffer, comment: string, checkInt: number): string {
	checkLengths(seed, publicKey);
	const unpadded = Buffer.concat([
		uint32(checkInt),
		uint32(checkInt),
		sshString(KEY_TYPE),
		sshString(publicKey),
		sshString(Buffer.concat([seed, publicKey])),
		sshString(comment),
	]);
	// Padded with 1, 2, 3, ... to the cipher block size (8 for "none").
	const padding = Buffer.from(Array.from({length: (8 - (unpadded.length % 8)) % 8}, (_, i) => i + 1));
	const body = Buffer.concat([
		Buffer.from('openssh-key-v1\0'),
		sshString('none'),
		sshString('none'),
		sshString(''),
		uint32(1),
		sshString(ed25519PublicBlob(publicKey)),
		sshString(Buffer.concat([unpadded, padding])),
	]);
	const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
	return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
