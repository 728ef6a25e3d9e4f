import {z} from 'zod';
import {defineCheck} from './check-definition.js';
import {targetOf} from './check-helpers.js';

// A port on the node accepts a TCP connection (through the node's SSH tunnel).
export const tcpPortCheck = defineCheck({
	type: 'tcp-port',
	params: z.strictObject({port: z.number().int()}),
	example: {port: 2379},
	scope: 'node',
	name: spec => `${spec.type} :${spec.port}`,
	port: spec => spec.port,
	async run(spec, context) {
		const target = targetOf(context, context.node, spec.port);
		const stream = await context.ssh.forwardOut(target.host, target.port, context.timeoutMs);
		stream.destroy();
		return `${target.host}:${target.port} accepts connections`;
	},
});
