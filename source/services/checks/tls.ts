import {X509Certificate} from 'node:crypto';
import {z} from 'zod';
import {CheckFailure, defineCheck} from './check-definition.js';
import {attemptTimeoutMs, secretsOf, targetOf} from './check-helpers.js';

// The certificate the node serves chains to the profile's CA and names the node's IP and hostname.
export const tlsCheck = defineCheck({
	type: 'tls',
	params: z.strictObject({port: z.number().int()}),
	example: {port: 2379},
	scope: 'node',
	name: spec => `${spec.type} :${spec.port}`,
	port: spec => spec.port,
	async run(spec, {node, ssh, ...context}) {
		const target = targetOf(context, node, spec.port);
		const secrets = await secretsOf(node);
		const raw = await ssh.servedCertificate(target.host, target.port, {cert: secrets.cert, key: secrets.key, timeoutMs: attemptTimeoutMs(context.timeoutMs)});
		const served = new X509Certificate(raw);
		const ca = new X509Certificate(secrets.ca);
		if (!served.checkIssued(ca) || !served.verify(ca.publicKey)) {
			throw new CheckFailure(`${node.name} serves a certificate issued by ${served.issuer.replaceAll('\n', ', ')}, not by the profile's CA ${ca.subject.replaceAll('\n', ', ')}`);
		}
		const sans = served.subjectAltName ?? '';
		const missing = [`IP Address:${node.ip}`, `DNS:${node.hostname}`].filter(name => !sans.split(', ').includes(name));
		if (missing.length > 0) throw new CheckFailure(`${node.name}'s certificate lacks ${missing.join(' and ')} (it has ${sans})`);
		return `chains to ${ca.subject.replaceAll('\n', ', ')}, SANs cover ${node.ip} and ${node.hostname}`;
	},
});
