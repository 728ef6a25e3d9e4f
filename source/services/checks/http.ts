import {z} from 'zod';
import {CheckFailure, defineCheck} from './check-definition.js';
import {attemptTimeoutMs, secretsOf, targetOf, urlPathProblems} from './check-helpers.js';

// A GET answers the expected status, and optionally a JSON field the expected value.
export const httpCheck = defineCheck({
	type: 'http',
	params: z.strictObject({
		port: z.number().int(),
		path: z.string().default('/'),
		https: z.boolean().default(true),
		clientCert: z.boolean().default(true),
		expectStatus: z.number().int().default(200),
		jsonField: z.string().optional(),
		jsonEquals: z.string().optional(),
	}),
	example: {port: 2379, path: '/health', jsonField: 'health', jsonEquals: 'true'},
	scope: 'node',
	name: spec => `http :${spec.port}${spec.path}`,
	port: spec => spec.port,
	rules: (spec, at) => urlPathProblems(spec.path, at),
	async run(spec, context) {
		const target = targetOf(context, context.node, spec.port);
		const read = await secretsOf(context.node);
		const secrets = spec.clientCert ? read : {ca: read.ca};
		const response = await context.ssh.httpsRequest({destHost: target.host, port: target.port, path: spec.path, https: spec.https, ...secrets, timeoutMs: attemptTimeoutMs(context.timeoutMs)});
		if (response.status !== spec.expectStatus) throw new CheckFailure(`GET ${spec.path} answered ${response.status}, expected ${spec.expectStatus}: ${response.body.slice(0, 120)}`);
		if (spec.jsonField) {
			let value: unknown;
			try {
				value = spec.jsonField.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], JSON.parse(response.body));
			} catch {
				throw new CheckFailure(`GET ${spec.path} did not answer JSON: ${response.body.slice(0, 120)}`);
			}
			if (spec.jsonEquals !== undefined && String(value) !== spec.jsonEquals) throw new CheckFailure(`${spec.jsonField} is ${JSON.stringify(value)}, expected ${spec.jsonEquals}`);
		}
		return `${response.status}`;
	},
});
