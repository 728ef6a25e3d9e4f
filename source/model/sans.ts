import type {NodePlan} from './plan.js';

// The names a node's certificate must carry: what peers and operators dial.
// T036 lost time to SANs that did not match the addresses in use.
export function plannedSans(node: Pick<NodePlan, 'hostname' | 'fqdn' | 'ip'>): {dns: string[]; ips: string[]} {
	const dns = [...new Set([node.hostname, node.fqdn, 'localhost'])];
	const ips = [...new Set([node.ip, '127.0.0.1'])];
	return {dns, ips};
}
