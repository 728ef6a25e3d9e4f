import {createPrivateKey, KeyObject, randomBytes, webcrypto, X509Certificate} from 'node:crypto';
import fs from 'node:fs/promises';
import {ProblemError} from '../model/field-error.js';
import type {KeyType} from '../model/profile-schema.js';
import type {NodePlan, Plan} from '../model/plan.js';
import {plannedSans} from '../model/sans.js';
import {writeFileAtomic} from './atomic-file.js';
import {ensureWorkDirs} from './owned-dir.js';

// CA and node certificates. Keys come from node:crypto; certificates are built
// and signed by @peculiar/x509 over node's WebCrypto, which handles ECDSA and
// RSA alike (node-forge cannot do EC keys). The library costs ~150 ms to load,
// so it is imported here, on first use, never at start-up.

type X509Module = typeof import('@peculiar/x509');
let x509Module: Promise<X509Module> | undefined;

async function loadX509(): Promise<X509Module> {
	x509Module ??= (async () => {
		await import('reflect-metadata');
		const x509 = await import('@peculiar/x509');
		x509.cryptoProvider.set(webcrypto as unknown as Crypto);
		return x509;
	})();
	return x509Module;
}

export type CertInfo = {
	path: string;
	subject: string;
	issuer: string;
	dns: string[];
	ips: string[];
	fingerprint256: string;
	notAfter: string;
	keyType: string;
	serial: string;
	isCa: boolean;
};

export type CertResult = CertInfo & {node?: string; reused: boolean};

const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;
const KEY_MODE = 0o400;
const CERT_MODE = 0o644;
const DIR_MODE = 0o700;

function algorithmFor(keyType: KeyType): {webcrypto: RsaHashedImportParams | EcKeyImportParams; signing: Algorithm | EcdsaParams} {
	if (keyType === 'ecdsa-p256') {
		return {webcrypto: {name: 'ECDSA', namedCurve: 'P-256'}, signing: {name: 'ECDSA', hash: 'SHA-256'} as EcdsaParams};
	}
	return {webcrypto: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}, signing: {name: 'RSASSA-PKCS1-v1_5'}};
}

export function keyTypeOf(key: KeyObject): KeyType | undefined {
	if (key.asymmetricKeyType === 'ec') return key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ecdsa-p256' : undefined;
	if (key.asymmetricKeyType === 'rsa') {
		const bits = key.asymmetricKeyDetails?.modulusLength;
		return bits === 2048 ? 'rsa-2048' : bits === 4096 ? 'rsa-4096' : bits && bits >= 2048 ? 'rsa-2048' : undefined;
	}
	return undefined;
}

// A new key straight from WebCrypto, as the CryptoKeys the certificate library
// signs with and as the KeyObject written to disk: no export and re-import
// round trip (bench/: ~2-3 ms per ECDSA key saved).
async function newKeyPair(keyType: KeyType): Promise<{key: KeyObject; keys: CryptoKeyPair}> {
	const algorithm =
		keyType === 'ecdsa-p256'
			? {name: 'ECDSA', namedCurve: 'P-256'}
			: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: keyType === 'rsa-2048' ? 2048 : 4096, publicExponent: new Uint8Array([1, 0, 1])};
	const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
	return {key: KeyObject.from(keys.privateKey as unknown as webcrypto.CryptoKey), keys};
}

async function cryptoKeys(privateKey: KeyObject, keyType: KeyType): Promise<CryptoKeyPair> {
	const {webcrypto: algorithm} = algorithmFor(keyType);
	const pkcs8 = privateKey.export({type: 'pkcs8', format: 'der'});
	const spki = (await import('node:crypto')).createPublicKey(privateKey).export({type: 'spki', format: 'der'});
	const subtle = webcrypto.subtle;
	return {
		privateKey: (await subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign'])) as unknown as CryptoKey,
		publicKey: (await subtle.importKey('spki', spki, algorithm, true, ['verify'])) as unknown as CryptoKey,
	};
}

// Serials: 16 random bytes with the top bit cleared so the DER integer stays positive.
function randomSerial(): string {
	const bytes = randomBytes(16);
	bytes[0] = (bytes[0]! & 0x7f) | 0x01;
	return bytes.toString('hex');
}

export function describeCertificate(pem: string, filePath = ''): CertInfo {
	const cert = new X509Certificate(pem);
	const sans = (cert.subjectAltName ?? '').split(', ').filter(Boolean);
	return {
		path: filePath,
		subject: cert.subject.replaceAll('\n', ', '),
		issuer: cert.issuer.replaceAll('\n', ', '),
		dns: sans.filter(s => s.startsWith('DNS:')).map(s => s.slice(4)),
		ips: sans.filter(s => s.startsWith('IP Address:')).map(s => s.slice('IP Address:'.length)),
		fingerprint256: cert.fingerprint256,
		notAfter: new Date(cert.validTo).toISOString(),
		keyType: cert.publicKey.asymmetricKeyType === 'ec' ? 'ECDSA P-256' : `RSA ${cert.publicKey.asymmetricKeyDetails?.modulusLength ?? ''}`.trim(),
		serial: cert.serialNumber,
		isCa: cert.ca,
	};
}

export type Ca = {cert: X509Certificate; pem: string; key: KeyObject; keyType: KeyType};

export async function createCa(subject: string, keyType: KeyType, validityDays: number): Promise<{certPem: string; key: KeyObject}> {
	const x509 = await loadX509();
	const {key, keys} = await newKeyPair(keyType);
	const now = new Date();
	const cert = await x509.X509CertificateGenerator.createSelfSigned({
		serialNumber: randomSerial(),
		name: subject,
		notBefore: new Date(now.getTime() - 60_000),
		notAfter: new Date(now.getTime() + validityDays * 86_400_000),
		keys,
		signingAlgorithm: algorithmFor(keyType).signing,
		extensions: [
			new x509.BasicConstraintsExtension(true, undefined, true),
			new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
			await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
		],
	});
	return {certPem: cert.toString('pem'), key};
}

// What signing needs from the CA, prepared once per CA rather than once per
// node certificate (key import and certificate parsing cost a few ms each).
const caSigning = new WeakMap<Ca, Promise<{keys: CryptoKeyPair; cert: import('@peculiar/x509').X509Certificate}>>();

function signingMaterial(x509: X509Module, ca: Ca) {
	let prepared = caSigning.get(ca);
	if (!prepared) {
		prepared = cryptoKeys(ca.key, ca.keyType).then(keys => ({keys, cert: new x509.X509Certificate(ca.pem)}));
		caSigning.set(ca, prepared);
	}
	return prepared;
}

export async function issueNodeCertificate(
	ca: Ca,
	node: Pick<NodePlan, 'hostname' | 'fqdn' | 'ip'> & Partial<Pick<NodePlan, 'certSubject'>>,
	keyType: KeyType,
	validityDays: number,
): Promise<{certPem: string; key: KeyObject}> {
	const x509 = await loadX509();
	const {key, keys} = await newKeyPair(keyType);
	const {keys: caKeys, cert: caX509} = await signingMaterial(x509, ca);
	const sans = plannedSans(node);
	const now = new Date();
	const caNotAfter = new Date(ca.cert.validTo);
	const wanted = new Date(now.getTime() + validityDays * 86_400_000);
	const usage = x509.KeyUsageFlags.digitalSignature | (keyType === 'ecdsa-p256' ? 0 : x509.KeyUsageFlags.keyEncipherment);
	const cert = await x509.X509CertificateGenerator.create({
		serialNumber: randomSerial(),
		subject: node.certSubject ?? `CN=${node.hostname}`,
		issuer: caX509.subject,
		notBefore: new Date(now.getTime() - 60_000),
		// A leaf never outlives its CA.
		notAfter: wanted < caNotAfter ? wanted : caNotAfter,
		publicKey: keys.publicKey,
		signingKey: caKeys.privateKey,
		signingAlgorithm: algorithmFor(ca.keyType).signing,
		extensions: [
			new x509.BasicConstraintsExtension(false, undefined, true),
			new x509.KeyUsagesExtension(usage, true),
			new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
			new x509.SubjectAlternativeNameExtension([...sans.dns.map(value => ({type: 'dns' as const, value})), ...sans.ips.map(value => ({type: 'ip' as const, value}))]),
			await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
			await x509.AuthorityKeyIdentifierExtension.create(caX509),
		],
	});
	return {certPem: cert.toString('pem'), key};
}

function keyPem(key: KeyObject): string {
	return key.export({type: 'pkcs8', format: 'pem'}).toString();
}

function keyMatchesCert(key: KeyObject, cert: X509Certificate): boolean {
	return cert.checkPrivateKey(key);
}

async function readIfExists(file: string): Promise<string | undefined> {
	try {
		return await fs.readFile(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}

// The operator's own CA, or the one an earlier run wrote: never replaced here.
async function loadCa(certPath: string, keyPath: string, existing: boolean): Promise<Ca> {
	const certField = existing ? 'tls.existingCa.cert' : 'tls';
	const keyField = existing ? 'tls.existingCa.key' : 'tls';
	const [pem, keyText] = await Promise.all([fs.readFile(certPath, 'utf8'), fs.readFile(keyPath, 'utf8')]).catch((error: NodeJS.ErrnoException) => {
		throw new ProblemError({field: existing ? certField : 'tls', message: `cannot read the CA (${error.code ?? error.message}: ${error.path ?? certPath})`, fix: existing ? 'check tls.existingCa.cert and tls.existingCa.key' : `restore ${certPath} and ${keyPath}, or move both away to create a new CA`});
	});
	let cert: X509Certificate;
	try {
		cert = new X509Certificate(pem);
	} catch {
		throw new ProblemError({field: certField, message: `${certPath} is not a PEM certificate`, fix: 'point it at the CA certificate in PEM form'});
	}
	let key: KeyObject;
	try {
		key = createPrivateKey(keyText);
	} catch {
		throw new ProblemError({field: keyField, message: `${keyPath} is not a readable PEM private key (PKCS#8, SEC1 or PKCS#1; unencrypted)`, fix: 'export the key unencrypted in PEM form'});
	}
	if (!cert.ca) throw new ProblemError({field: certField, message: `${certPath} is not a CA certificate (basicConstraints CA is false)`, fix: 'use a certificate with CA:TRUE'});
	if (!keyMatchesCert(key, cert)) throw new ProblemError({field: keyField, message: `${keyPath} does not belong to ${certPath}`, fix: 'pair the CA certificate with its own key'});
	const keyType = keyTypeOf(key);
	if (!keyType) throw new ProblemError({field: keyField, message: `the CA key type (${key.asymmetricKeyType}) is not supported`, fix: 'use an ECDSA P-256 or RSA (2048+) CA'});
	if (new Date(cert.validTo).getTime() < Date.now()) {
		throw new ProblemError({field: certField, message: `the CA ${certPath} expired on ${new Date(cert.validTo).toISOString()}`, fix: existing ? 'renew your CA' : `move ${certPath} and its key away to create a new CA (every node certificate is then reissued)`});
	}
	return {cert, pem, key, keyType};
}

function nodeCertStillValid(pem: string | undefined, keyText: string | undefined, ca: Ca, node: NodePlan): boolean {
	if (!pem || !keyText) return false;
	try {
		const cert = new X509Certificate(pem);
		const key = createPrivateKey(keyText);
		if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey) || !keyMatchesCert(key, cert)) return false;
		if (new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_MS) return false;
		const info = describeCertificate(pem);
		const wanted = plannedSans(node);
		// A node whose role changed gets the subject of its new role.
		if (/(^|, )CN=/.test(info.subject) !== /(^|, )CN=/.test(node.certSubject)) return false;
		return sameSet(info.dns, wanted.dns) && sameSet(info.ips, wanted.ips);
	} catch {
		return false;
	}
}

function sameSet(a: string[], b: string[]): boolean {
	return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

async function ensureCa(plan: Plan): Promise<{ca: Ca; reused: boolean}> {
	// Checked before anything in it is read: a tls/ca.* planted in a directory another user made is never "an earlier run's CA".
	if (!plan.tls.reuseExisting) await ensureWorkDirs(plan.workDir, [plan.tls.dir]);
	const exists = (await readIfExists(plan.tls.caCert)) !== undefined || (await readIfExists(plan.tls.caKey)) !== undefined;
	if (plan.tls.reuseExisting || exists) return {ca: await loadCa(plan.tls.caCert, plan.tls.caKey, plan.tls.reuseExisting), reused: true};
	const {certPem, key} = await createCa(plan.tls.caSubject, plan.keyType, plan.tls.validityDays);
	// Key first: a CA certificate without its key would block every later run.
	await writeFileAtomic(plan.tls.caKey, keyPem(key), KEY_MODE);
	try {
		await writeFileAtomic(plan.tls.caCert, certPem, CERT_MODE);
	} catch (error) {
		// A key without its certificate would block every later run too (a full
		// disk, say): this run made it and signed nothing with it, so it goes.
		await fs.rm(plan.tls.caKey, {force: true});
		throw error;
	}
	return {ca: {cert: new X509Certificate(certPem), pem: certPem, key, keyType: plan.keyType}, reused: false};
}

// Idempotent: the CA is reused when present (never regenerated behind the
// operator's back); each node certificate is kept while it chains to the CA,
// carries exactly the planned SANs and is not about to expire.
export async function ensureCertificates(plan: Plan): Promise<{ca: CertResult; nodes: CertResult[]}> {
	const {ca, reused} = await ensureCa(plan);
	// Nodes are independent: key generation, signing (WebCrypto, on libuv's
	// threads) and the fsyncs of one node overlap with the others'.
	// Measured (bench/, ECDSA P-256, CA + 3): about a third faster than one node after another.
	const outcomes = await Promise.allSettled(plan.nodes.map(node => ensureNodeCertificate(plan, ca, node)));
	const failure = outcomes.find(o => o.status === 'rejected');
	if (failure) throw failure.reason;
	const nodes = outcomes.map(o => (o as PromiseFulfilledResult<CertResult>).value);
	return {ca: {...describeCertificate(ca.pem, plan.tls.caCert), reused}, nodes};
}

async function ensureNodeCertificate(plan: Plan, ca: Ca, node: NodePlan): Promise<CertResult> {
	await ensureWorkDirs(plan.workDir, [node.secrets.dir]);
	await fs.chmod(node.secrets.dir, DIR_MODE);
	if ((await readIfExists(node.secrets.ca)) !== ca.pem) await writeFileAtomic(node.secrets.ca, ca.pem, CERT_MODE);
	const [pem, keyText] = await Promise.all([readIfExists(node.secrets.cert), readIfExists(node.secrets.key)]);
	if (nodeCertStillValid(pem, keyText, ca, node)) return {...describeCertificate(pem!, node.secrets.cert), node: node.name, reused: true};
	const issued = await issueNodeCertificate(ca, node, plan.keyType, plan.tls.validityDays);
	// Key first: a certificate without its key would look valid to the next run.
	await writeFileAtomic(node.secrets.key, keyPem(issued.key), KEY_MODE);
	await writeFileAtomic(node.secrets.cert, issued.certPem, CERT_MODE);
	return {...describeCertificate(issued.certPem, node.secrets.cert), node: node.name, reused: false};
}
