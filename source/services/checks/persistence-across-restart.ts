import {randomBytes} from 'node:crypto';
import {z} from 'zod';
import {readJsonFile} from '../json-file.js';
import {writeFileAtomic} from '../atomic-file.js';
import {CheckFailure, defineCheck} from './check-definition.js';
import {b64, controlPlaneOf, etcdCall, etcdValue, firstAnswering} from './check-helpers.js';

// A key written before the cluster stops is read back after it starts again
// (plasma-tui stop / start, a host reboot). The first run writes the key and
// notes it in the work directory (plan.persistenceMarker); every later run,
// whatever stopped the cluster in between, must read that same value back.

const markerSchema = z.strictObject({key: z.string(), value: z.string(), writtenAt: z.string(), writtenOn: z.string()});

export const persistenceAcrossRestartCheck = defineCheck({
	type: 'persistence-across-restart',
	params: z.strictObject({
		port: z.number().int().default(2379),
		key: z.string().default('plasma-tui/persistence-across-restart'),
	}),
	example: {port: 2379},
	scope: 'cluster',
	startsWhen: 'all',
	name: spec => `${spec.type} :${spec.port}`,
	port: spec => spec.port,
	async run(spec, context) {
		const members = controlPlaneOf(context);
		const marker = await readJsonFile(context.plan.persistenceMarker, markerSchema);
		if (marker.status === 'ok' && marker.value.key === spec.key) {
			const {value, writtenAt, writtenOn} = marker.value;
			// Read on the last member that answers (a write goes to the first).
			const read = await firstAnswering([...members].reverse(), 'the read', access => etcdValue(context, access, spec.port, spec.key));
			const reader = read.access.node.name;
			if (read.value !== value) throw new CheckFailure(`${spec.key}, written on ${writtenOn} at ${writtenAt}, reads ${read.value === '' ? 'as missing' : `"${read.value.slice(0, 40)}"`} on ${reader}: the data did not survive the restart`);
			return `${spec.key} written at ${writtenAt} read back on ${reader}`;
		}
		const value = `${randomBytes(8).toString('hex')} written by plasma-tui`;
		const write = await firstAnswering(members, 'the write', access => etcdCall(context, access, spec.port, '/v3/kv/put', {key: b64(spec.key), value: b64(value)}));
		const writer = write.access;
		const others = members.filter(a => a !== writer && !write.failed.includes(a)).reverse();
		const read = await firstAnswering([...others, writer], 'the read', access => etcdValue(context, access, spec.port, spec.key));
		if (read.value !== value) throw new CheckFailure(`${read.access.node.name} did not read back the key ${writer.node.name} wrote`);
		await writeFileAtomic(context.plan.persistenceMarker, `${JSON.stringify({key: spec.key, value, writtenAt: new Date().toISOString(), writtenOn: writer.node.name})}\n`, 0o600);
		return `${spec.key} written on ${writer.node.name}; read back after the next stop and start`;
	},
});
