import {z} from 'zod';
import {CheckFailure, defineCheck} from './check-definition.js';
import {attemptTimeoutMs, shellQuote} from './check-helpers.js';

// Every node's hostname resolves, on this node, to that node's cluster address.
export const hostsResolveCheck = defineCheck({
	type: 'hosts-resolve',
	params: z.strictObject({}),
	example: {},
	scope: 'node',
	name: spec => spec.type,
	async run(_spec, {ssh, plan, timeoutMs}) {
		const problems: string[] = [];
		for (const other of plan.nodes) {
			const result = await ssh.exec(`getent hosts ${shellQuote(other.hostname)} 2>/dev/null || ping -c 1 -W 1 ${shellQuote(other.hostname)}`, {timeoutMs: attemptTimeoutMs(timeoutMs)});
			if (!new RegExp(`(^|[\\s(])${other.ip.replaceAll('.', '\\.')}([\\s):]|$)`, 'm').test(result.stdout)) problems.push(`${other.hostname} (${result.stdout.trim().split('\n')[0] || result.stderr.trim() || 'no answer'})`);
		}
		if (problems.length > 0) throw new CheckFailure(`does not resolve ${problems.join(', ')}`);
		return `resolves all ${plan.nodes.length} hostnames`;
	},
});
