import {z} from 'zod';
import {CheckFailure, defineCheck} from './check-definition.js';
import {attemptTimeoutMs, shellQuote} from './check-helpers.js';

// Every other node answers a ping over the cluster network (the VDE switch).
export const l2MeshCheck = defineCheck({
	type: 'l2-mesh',
	params: z.strictObject({}),
	example: {},
	scope: 'node',
	// Pings every peer: it waits until every node is installed (or out of the run).
	startsWhen: 'all',
	name: spec => spec.type,
	async run(_spec, {node, ssh, plan, nodes, timeoutMs}) {
		// Peers being validated: a node that failed before validation is reported on its own (not run), not here.
		const others = plan.nodes.filter(n => n.name !== node.name && nodes.some(a => a.node.name === n.name));
		const left = plan.nodes.filter(n => n.name !== node.name && !others.includes(n)).map(n => n.name);
		// Every peer pinged at once by one command (one session per node, not one per peer).
		const script = `for ip in ${others.map(other => shellQuote(other.ip)).join(' ')}; do (ping -c 1 -W 2 "$ip" >/dev/null 2>&1 && echo "reached $ip") & done; wait`;
		const result = others.length > 0 ? await ssh.exec(script, {timeoutMs: attemptTimeoutMs(timeoutMs)}) : {stdout: ''};
		const reached = new Set(result.stdout.split('\n').flatMap(line => (line.startsWith('reached ') ? [line.slice(8).trim()] : [])));
		const unreachable = others.filter(other => !reached.has(other.ip)).map(n => `${n.name} (${n.ip})`);
		if (unreachable.length > 0) throw new CheckFailure(`cannot reach ${unreachable.join(', ')} over the cluster network`);
		return `reaches ${others.length} peers${left.length > 0 ? ` (not tried: ${left.join(', ')}, not validated)` : ''}`;
	},
});
