import {randomBytes} from 'node:crypto';
import {z} from 'zod';
import {CheckFailure, defineCheck} from './check-definition.js';
import {b64, controlPlaneOf, etcdCall, etcdValue, firstAnswering} from './check-helpers.js';

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
		const members = controlPlaneOf(context);
		const key = `plasma-tui/check/${randomBytes(6).toString('hex')}`;
		const write = await firstAnswering(members, 'the write', async access => {
			const value = `written by ${access.node.name} at ${new Date().toISOString()}`;
			await etcdCall(context, access, port, '/v3/kv/put', {key: b64(key), value: b64(value)});
			return value;
		});
		const writer = write.access;
		// Read back on another member when one answers, else on the writer itself.
		const others = members.filter(a => a !== writer && !write.failed.includes(a));
		const read = await firstAnswering([...others, writer], 'the read', access => etcdValue(context, access, port, key));
		const reader = read.access;
		if (read.value !== write.value) throw new CheckFailure(`${reader.node.name} did not read back the key ${writer.node.name} wrote`);
		const deleted = await etcdCall(context, reader, port, '/v3/kv/deleterange', {key: b64(key)});
		if (String(deleted['deleted'] ?? '0') !== '1') throw new CheckFailure(`${reader.node.name} could not delete the key`);
		return `written on ${writer.node.name}, read and deleted on ${reader.node.name}`;
	},
});
