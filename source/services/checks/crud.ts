import {randomBytes} from 'node:crypto';
import {z} from 'zod';
import {CheckFailure, defineCheck} from './check-definition.js';
import {answeringMembers, b64, controlPlaneOf, etcdCall, etcdValue} from './check-helpers.js';

// A key written on one member is read and deleted on another.
export const crudCheck = defineCheck({
	type: 'crud',
	params: z.strictObject({port: z.number().int().default(2379)}),
	example: {port: 2379},
	scope: 'cluster',
	startsWhen: 'quorum',
	name: spec => `${spec.type} :${spec.port}`,
	port: spec => spec.port,
	async run({port}, context) {
		const live = await answeringMembers(context, controlPlaneOf(context), port);
		if (live.length === 0) throw new CheckFailure('no member answers');
		const writer = live[0]!;
		const reader = live[live.length > 1 ? 1 : 0]!;
		const key = `plasma-tui/check/${randomBytes(6).toString('hex')}`;
		const value = `written by ${writer.node.name} at ${new Date().toISOString()}`;
		await etcdCall(context, writer, port, '/v3/kv/put', {key: b64(key), value: b64(value)});
		if ((await etcdValue(context, reader, port, key)) !== value) throw new CheckFailure(`${reader.node.name} did not read back the key ${writer.node.name} wrote`);
		const deleted = await etcdCall(context, reader, port, '/v3/kv/deleterange', {key: b64(key)});
		if (String(deleted['deleted'] ?? '0') !== '1') throw new CheckFailure(`${reader.node.name} could not delete the key`);
		return `written on ${writer.node.name}, read and deleted on ${reader.node.name}`;
	},
});
