import type {NodeRole, NodeSpec, Profile} from './profile-schema.js';
import {formatIpv4, parseSubnet} from './ipv4.js';
import {macFor, macPrefixFor} from './mac.js';

// A node with every value decided: overrides where the operator set them,
// auto-assigned values everywhere else.
export type ResolvedNode = {
	index: number;
	name: string;
	role: NodeRole;
	hostname: string;
	fqdn: string;
	ip: string;
	mac: string;
	sshPort: number;
	// Its port on the cluster switch: like the others, fixed once a node runs (node remove keeps it).
	switchPort: number;
	vcpus: number;
	memoryMiB: number;
	diskGiB: number;
	// Which values came from the operator rather than auto-assignment.
	overridden: {ip: boolean; mac: boolean; hostname: boolean; sshPort: boolean};
};

export function defaultNodeName(index: number): string {
	return `node${String(index + 1).padStart(2, '0')}`;
}

export function macPrefixOf(profile: Profile): string {
	return profile.network.macPrefix ?? macPrefixFor(profile.name);
}

// Auto-assigned values follow node position (node03 keeps .13 when node02 is
// overridden) and skip what an override or an earlier node already took.
export function resolveNodes(profile: Profile): ResolvedNode[] {
	const subnet = parseSubnet(profile.network.subnet);
	const taken = {
		ip: new Set(profile.nodes.flatMap(n => (n.ip ? [n.ip] : []))),
		mac: new Set(profile.nodes.flatMap(n => (n.mac ? [n.mac.toLowerCase()] : []))),
		port: new Set(profile.nodes.flatMap(n => (n.sshPort === undefined ? [] : [n.sshPort]))),
		switchPort: new Set(profile.nodes.flatMap(n => (n.switchPort === undefined ? [] : [n.switchPort]))),
	};
	const prefix = macPrefixOf(profile);
	const free = <T>(set: Set<T>, candidate: (k: number) => T, start: number): T => {
		let k = start;
		while (set.has(candidate(k))) k++;
		const value = candidate(k);
		set.add(value);
		return value;
	};

	return profile.nodes.map((spec: NodeSpec, index) => {
		const ip = spec.ip ?? (subnet ? free(taken.ip, k => formatIpv4(subnet.network + profile.network.hostOffset + k), index) : '');
		const mac = spec.mac?.toLowerCase() ?? free(taken.mac, k => macFor(prefix, k), index);
		const sshPort = spec.sshPort ?? free(taken.port, k => profile.network.sshPortBase + k, index);
		// Port 0 is the switch's own: node index 0 is on port 1.
		const switchPort = spec.switchPort ?? free(taken.switchPort, k => k + 1, index);
		const hostname = spec.hostname ?? spec.name;
		return {
			index,
			name: spec.name,
			role: spec.role,
			hostname,
			fqdn: `${hostname}.${profile.cluster.domain}`,
			ip,
			mac,
			sshPort,
			switchPort,
			vcpus: spec.vcpus ?? profile.defaults.vcpus,
			memoryMiB: spec.memoryMiB ?? profile.defaults.memoryMiB,
			diskGiB: spec.diskGiB ?? profile.defaults.diskGiB,
			overridden: {
				ip: spec.ip !== undefined,
				mac: spec.mac !== undefined,
				hostname: spec.hostname !== undefined,
				sshPort: spec.sshPort !== undefined,
			},
		};
	});
}

// Changing the node count keeps every remaining node's spec (and so its overrides).
export function withNodeCount(profile: Profile, count: number): Profile {
	const nodes = profile.nodes.slice(0, count);
	const names = new Set(nodes.map(n => n.name));
	for (let index = nodes.length; index < count; index++) {
		let name = defaultNodeName(index);
		for (let k = index + 1; names.has(name); k++) name = defaultNodeName(k);
		names.add(name);
		nodes.push({name, role: index < 3 ? 'control-plane' : 'worker'});
	}
	return {...profile, nodes};
}

export function ipPrefixLength(profile: Profile): number {
	return parseSubnet(profile.network.subnet)?.prefix ?? 24;
}
