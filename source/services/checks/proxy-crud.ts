import {randomBytes} from 'node:crypto';
import {z} from 'zod';
import {CheckFailure, defineCheck} from './check-definition.js';
import {answeringMembers, attemptTimeoutMs, b64, controlPlaneOf, etcdCall, etcdValue, secretsOf, targetOf} from './check-helpers.js';
import {grpcPut} from './etcd-grpc.js';

// A node that is not a member serves etcd's API through a proxy (the demo's
// workers run `etcd grpc-proxy`): a key written through this node's proxy is
// read back, and deleted, on a member. Proves the proxy reaches the members
// over TLS with its client certificate, not just that its port is open.
export const proxyCrudCheck = defineCheck({
	type: 'proxy-crud',
	params: z.strictObject({
		// Where the proxy on the node listens (gRPC only).
		port: z.number().int().default(23790),
		// Where the members serve clients (their JSON gateway is used to read back).
		memberPort: z.number().int().default(2379),
	}),
	example: {port: 23790},
	scope: 'node',
	// Reads back on a member: a quorum of them must be installed.
	startsWhen: 'quorum',
	name: spec => `${spec.type} :${spec.port}`,
	port: spec => spec.port,
	async run(spec, context) {
		const {node, ssh} = context;
		const members = await answeringMembers(context, controlPlaneOf(context), spec.memberPort);
		if (members.length === 0) throw new CheckFailure(`no member answers on :${spec.memberPort} to read back what ${node.name}'s proxy writes`);
		const reader = members[0]!;
		const key = `plasma-tui/proxy/${node.name}/${randomBytes(6).toString('hex')}`;
		const value = `written through ${node.name}'s proxy at ${new Date().toISOString()}`;
		const target = targetOf(context, node, spec.port);
		await grpcPut({ssh, host: target.host, port: target.port, secrets: await secretsOf(node), timeoutMs: attemptTimeoutMs(context.timeoutMs)}, key, value);
		if ((await etcdValue(context, reader, spec.memberPort, key)) !== value) throw new CheckFailure(`${reader.node.name} did not read back the key written through ${node.name}'s proxy`);
		await etcdCall(context, reader, spec.memberPort, '/v3/kv/deleterange', {key: b64(key)});
		return `written through ${node.name}:${spec.port}, read and deleted on member ${reader.node.name}`;
	},
});
