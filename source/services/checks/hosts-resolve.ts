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
		// One command for every hostname, each answer after a "== NAME" line: after a restore,
		// every command costs a cold guest a new session.
		const script = `for h in ${plan.nodes.map(n => shellQuote(n.hostname)).join(' ')}; do echo "== $h"; getent hosts "$h" 2>/dev/null || ping -c 1 -W 1 "$h" 2>&1; done`;
		const result = await ssh.exec(script, {timeoutMs: attemptTimeoutMs(timeoutMs)});
		const answers = new Map<string, string>();
		let current: string | undefined;
		for (const line of result.stdout.split('\n')) {
			if (line.startsWith('== ')) answers.set((current = line.slice(3)), '');
			else if (current !== undefined) answers.set(current, `${answers.get(current)}${line}\n`);
		}
		const problems: string[] = [];
		for (const other of plan.nodes) {
			const answer = answers.get(other.hostname) ?? '';
			if (!new RegExp(`(^|[\\s(])${other.ip.replaceAll('.', '\\.')}([\\s):]|$)`, 'm').test(answer)) problems.push(`${other.hostname} (${answer.trim().split('\n')[0] || result.stderr.trim() || 'no answer'})`);
		}
		if (problems.length > 0) throw new CheckFailure(`does not resolve ${problems.join(', ')}`);
		return `resolves all ${plan.nodes.length} hostnames`;
	},
});
