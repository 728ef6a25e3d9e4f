import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createPrivateKey, generateKeyPairSync, X509Certificate} from 'node:crypto';
import {readFileSync, statSync, writeFileSync, mkdirSync} from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {ensureCertificates, createCa, describeCertificate} from '../../source/services/tls.js';
import {ProblemError} from '../../source/model/field-error.js';
import {plannedSans} from '../../source/model/sans.js';
import {hostTools, planIn, skipUnless, template, tempDir} from '../helpers.js';

const skip = skipUnless(await hostTools({openssl: 'openssl'}));

async function opensslVerify(caFile: string, certFile: string): Promise<string> {
	const result = await execa('openssl', ['verify', '-CAfile', caFile, certFile], {reject: false});
	return `${result.stdout}${result.stderr}`.trim();
}

function mode(file: string): number {
	return statSync(file).mode & 0o777;
}

test('ECDSA CA and node certificates chain, carry exactly the planned SANs, and have the right modes', {skip}, async () => {
	const plan = planIn(tempDir());
	const result = await ensureCertificates(plan);
	const caPem = readFileSync(plan.tls.caCert, 'utf8');
	const ca = new X509Certificate(caPem);
	assert.equal(ca.ca, true);
	assert.equal(ca.publicKey.asymmetricKeyType, 'ec');
	assert.equal(result.ca.reused, false);
	assert.equal(mode(plan.tls.caKey), 0o400);
	const serials = new Set([ca.serialNumber]);
	for (const node of plan.nodes) {
		const cert = new X509Certificate(readFileSync(node.secrets.cert, 'utf8'));
		assert.ok(cert.checkIssued(ca), `${node.name} not issued by the CA`);
		assert.ok(cert.verify(ca.publicKey), `${node.name} signature does not verify`);
		assert.equal(cert.ca, false);
		assert.equal(await opensslVerify(plan.tls.caCert, node.secrets.cert), `${node.secrets.cert}: OK`);
		const info = describeCertificate(readFileSync(node.secrets.cert, 'utf8'));
		const wanted = plannedSans(node);
		assert.deepEqual(info.dns.sort(), wanted.dns.sort());
		assert.deepEqual(info.ips.sort(), wanted.ips.sort());
		assert.deepEqual(wanted.dns.sort(), [node.hostname, node.fqdn, 'localhost'].sort());
		assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(node.secrets.key))));
		const text = (await execa('openssl', ['x509', '-in', node.secrets.cert, '-noout', '-ext', 'extendedKeyUsage,basicConstraints'])).stdout;
		assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
		assert.match(text, /CA:FALSE/);
		assert.equal(mode(node.secrets.key), 0o400);
		assert.equal(mode(node.secrets.cert), 0o644);
		assert.equal(mode(node.secrets.ca), 0o644);
		assert.equal(mode(node.secrets.dir), 0o700);
		assert.equal(readFileSync(node.secrets.ca, 'utf8'), caPem);
		serials.add(cert.serialNumber);
	}
	assert.equal(serials.size, plan.nodes.length + 1, 'serials are unique');
});

test('a rerun reuses the CA and valid node certificates; a changed IP reissues only that node', async () => {
	const dir = tempDir();
	const first = await ensureCertificates(planIn(dir));
	const again = await ensureCertificates(planIn(dir));
	assert.equal(again.ca.reused, true);
	assert.equal(again.ca.fingerprint256, first.ca.fingerprint256);
	assert.deepEqual(again.nodes.map(n => n.reused), [true, true, true]);

	const profile = template();
	profile.nodes[1]!.ip = '192.168.100.42';
	const changed = await ensureCertificates(planIn(dir, profile));
	assert.equal(changed.ca.fingerprint256, first.ca.fingerprint256);
	assert.deepEqual(changed.nodes.map(n => n.reused), [true, false, true]);
	assert.ok(changed.nodes[1]!.ips.includes('192.168.100.42'));
	assert.notEqual(changed.nodes[1]!.fingerprint256, first.nodes[1]!.fingerprint256);
});

test('RSA 2048 works end to end', {skip}, async () => {
	const profile = template();
	profile.tls.keyType = 'rsa-2048';
	const plan = planIn(tempDir(), profile);
	const result = await ensureCertificates(plan);
	assert.equal(result.ca.keyType, 'RSA 2048');
	for (const node of plan.nodes) assert.equal(await opensslVerify(plan.tls.caCert, node.secrets.cert), `${node.secrets.cert}: OK`);
});

test("an operator's existing CA (RSA PKCS#1 and EC SEC1 keys) is used and never copied or replaced", {skip}, async () => {
	for (const [kind, keyType] of [['rsa', 'pkcs1'], ['ec', 'sec1']] as const) {
		const dir = tempDir();
		const own = await createCa('CN=Operator CA,O=Example', kind === 'rsa' ? 'rsa-2048' : 'ecdsa-p256', 30);
		mkdirSync(path.join(dir, 'own'));
		const certFile = path.join(dir, 'own', 'ca.pem');
		const keyFile = path.join(dir, 'own', 'ca-key.pem');
		writeFileSync(certFile, own.certPem);
		writeFileSync(keyFile, own.key.export({type: keyType, format: 'pem'}));
		const profile = template();
		profile.tls.existingCa = {cert: certFile, key: keyFile};
		const plan = planIn(dir, profile);
		const result = await ensureCertificates(plan);
		assert.equal(result.ca.reused, true);
		assert.match(result.ca.subject, /CN=Operator CA/);
		assert.equal(readFileSync(certFile, 'utf8'), own.certPem);
		for (const node of plan.nodes) assert.equal(await opensslVerify(certFile, node.secrets.cert), `${node.secrets.cert}: OK`);
	}
});

test('a CA key that does not match, or a leaf as CA, is refused naming the field', async () => {
	const dir = tempDir();
	const own = await createCa('CN=Operator CA', 'ecdsa-p256', 30);
	const certFile = path.join(dir, 'ca.pem');
	const keyFile = path.join(dir, 'other.pem');
	writeFileSync(certFile, own.certPem);
	writeFileSync(keyFile, generateKeyPairSync('ec', {namedCurve: 'prime256v1'}).privateKey.export({type: 'pkcs8', format: 'pem'}));
	const profile = template();
	profile.tls.existingCa = {cert: certFile, key: keyFile};
	await assert.rejects(ensureCertificates(planIn(dir, profile)), (error: unknown) => error instanceof ProblemError && error.problem.field === 'tls.existingCa.key' && /does not belong/.test(error.problem.message));

	const leafDir = tempDir();
	const plan = planIn(leafDir);
	await ensureCertificates(plan);
	profile.tls.existingCa = {cert: plan.nodes[0]!.secrets.cert, key: plan.nodes[0]!.secrets.key};
	await assert.rejects(ensureCertificates(planIn(tempDir(), profile)), (error: unknown) => error instanceof ProblemError && error.problem.field === 'tls.existingCa.cert' && /not a CA/.test(error.problem.message));
});

test('a CA on disk that no longer loads is reported, never regenerated', async () => {
	const dir = tempDir();
	const plan = planIn(dir);
	await ensureCertificates(plan);
	const caText = readFileSync(plan.tls.caCert, 'utf8');
	writeFileSync(plan.tls.caCert, 'garbage');
	await assert.rejects(ensureCertificates(plan), /is not a PEM certificate/);
	assert.equal(readFileSync(plan.tls.caCert, 'utf8'), 'garbage');
	writeFileSync(plan.tls.caCert, caText);
	assert.equal((await ensureCertificates(plan)).ca.reused, true);
});

test('an expired or key-mismatched CA on disk is refused with the fix and nothing is overwritten', async () => {
	const dir = tempDir();
	const plan = planIn(dir);
	await ensureCertificates(plan);
	const keyBefore = readFileSync(plan.tls.caKey, 'utf8');
	const certBefore = readFileSync(plan.tls.caCert, 'utf8');
	const other = generateKeyPairSync('ec', {namedCurve: 'prime256v1'}).privateKey.export({type: 'pkcs8', format: 'pem'});
	writeFileSync(plan.tls.caKey, other);
	await assert.rejects(ensureCertificates(plan), (error: unknown) => error instanceof ProblemError && /does not belong/.test(error.problem.message) && error.problem.fix!.length > 0);
	assert.equal(readFileSync(plan.tls.caKey, 'utf8'), other);
	assert.equal(readFileSync(plan.tls.caCert, 'utf8'), certBefore);
	writeFileSync(plan.tls.caKey, keyBefore);

	// A few seconds in the past: expired, but otherwise a valid CA with its own key.
	const expired = await createCa('CN=Old CA', 'ecdsa-p256', -0.0001);
	writeFileSync(plan.tls.caCert, expired.certPem);
	writeFileSync(plan.tls.caKey, expired.key.export({type: 'pkcs8', format: 'pem'}));
	await assert.rejects(ensureCertificates(plan), (error: unknown) => error instanceof ProblemError && /expired/.test(error.problem.message) && /move .* away/.test(error.problem.fix!));
	assert.equal(readFileSync(plan.tls.caCert, 'utf8'), expired.certPem);
});

test('RSA 4096 chains too', {skip}, async () => {
	const profile = template();
	profile.tls.keyType = 'rsa-4096';
	const plan = planIn(tempDir(), profile);
	const result = await ensureCertificates(plan);
	assert.equal(result.ca.keyType, 'RSA 4096');
	const ca = new X509Certificate(readFileSync(plan.tls.caCert, 'utf8'));
	for (const node of plan.nodes) {
		const cert = new X509Certificate(readFileSync(node.secrets.cert, 'utf8'));
		assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
		assert.equal(await opensslVerify(plan.tls.caCert, node.secrets.cert), `${node.secrets.cert}: OK`);
	}
});
