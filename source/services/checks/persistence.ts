import {randomBytes} from 'node:crypto';
import {setTimeout as sleep} from 'node:timers/promises';
import {z} from 'zod';
import {CheckFailure, defineCheck, type CheckContext, type NodeAccess} from './check-definition.js';
import {answeringMembers, b64, controlPlaneOf, emptyTextProblems, etcdCall, etcdValue} from './check-helpers.js';

// The restarted member answers again within a second or two: ask often.
const RETRY_MS = 250;

async function lastFollower(context: CheckContext, live: NodeAccess[], port: number): Promise<NodeAccess | undefined> {
	const statuses = await Promise.all(live.map(member => etcdCall(context, member, port, '/v3/maintenance/status', {}).catch(() => undefined)));
	const follower = (status: Record<string, unknown> | undefined) => status !== undefined && String(status['leader']) !== String((status['header'] as {member_id?: unknown} | undefined)?.member_id);
	return live.filter((_, index) => follower(statuses[index])).at(-1);
}

// A key written before a member's service restarts is read back from that member afterwards.
export const persistenceCheck = defineCheck({
	type: 'persistence',
	params: z.strictObject({
		port: z.number().int().default(2379),
		restartCommand: z.string(),
	}),
	example: {restartCommand: 'systemctl restart etcd'},
	scope: 'cluster',
	startsWhen: 'all',
	changesNode: 'it restarts the service on a member',
	name: spec => `${spec.type} :${spec.port}`,
	port: spec => spec.port,
	rules: (spec, at) => emptyTextProblems(spec.restartCommand, `${at}.restartCommand`, 'give the command that restarts the service, e.g. systemctl restart etcd'),
	async run(spec, context) {
		const live = await answeringMembers(context, controlPlaneOf(context), spec.port);
		if (live.length === 0) throw new CheckFailure('no member answers');
		// A follower when there is one: restarting the leader adds an election (etcd's 1 s timeout and more under TCG).
		const restarted = (await lastFollower(context, live, spec.port)) ?? live[live.length - 1]!;
		const writer = live.find(member => member !== restarted) ?? restarted;
		const key = `plasma-tui/persist/${randomBytes(6).toString('hex')}`;
		await etcdCall(context, writer, spec.port, '/v3/kv/put', {key: b64(key), value: b64('kept')});
		const restart = await restarted.ssh.exec(spec.restartCommand, {timeoutMs: 60_000});
		if (restart.code !== 0) throw new CheckFailure(`"${spec.restartCommand}" on ${restarted.node.name} exited ${restart.code}: ${restart.stderr.trim().slice(0, 120)}`);
		const deadline = Date.now() + Math.min(context.timeoutMs, 60_000);
		let lastError = '';
		while (Date.now() < deadline) {
			try {
				if ((await etcdValue(context, restarted, spec.port, key)) === 'kept') {
					await etcdCall(context, restarted, spec.port, '/v3/kv/deleterange', {key: b64(key)}).catch(() => undefined);
					return `${restarted.node.name} restarted and read the key back`;
				}
				lastError = 'key missing after restart';
			} catch (error) {
				lastError = (error as Error).message;
			}
			await sleep(RETRY_MS, undefined, {signal: context.signal});
		}
		throw new CheckFailure(`${restarted.node.name} after "${spec.restartCommand}": ${lastError}`);
	},
});
