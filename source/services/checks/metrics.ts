import {z} from 'zod';
import {CheckFailure, defineCheck} from './check-definition.js';
import {attemptTimeoutMs, secretsOf, targetOf, urlPathProblems} from './check-helpers.js';

// The node serves Prometheus text with at least one sample.
export const metricsCheck = defineCheck({
	type: 'metrics',
	params: z.strictObject({
		port: z.number().int(),
		path: z.string().default('/metrics'),
		https: z.boolean().default(true),
	}),
	example: {port: 2379},
	scope: 'node',
	name: spec => `${spec.type} :${spec.port}`,
	port: spec => spec.port,
	rules: (spec, at) => urlPathProblems(spec.path, at),
	async run(spec, context) {
		const target = targetOf(context, context.node, spec.port);
		const response = await context.ssh.httpsRequest({destHost: target.host, port: target.port, path: spec.path, https: spec.https, ...(await secretsOf(context.node)), timeoutMs: attemptTimeoutMs(context.timeoutMs)});
		if (response.status !== 200) throw new CheckFailure(`${spec.path} answered ${response.status}`);
		const samples = response.body.split('\n').filter(line => line && !line.startsWith('#'));
		if (!/^# (HELP|TYPE) /m.test(response.body) || samples.length === 0) throw new CheckFailure(`${spec.path} is not Prometheus text: ${response.body.slice(0, 80)}`);
		return `${samples.length} samples`;
	},
});
