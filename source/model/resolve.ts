import type {NodeRole, NodeSpec, Profile} from './profile-schema.js';
import {formatIpv4, parseIpv4, parseSubnet} from './ipv4.js';
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

// Auto-assigned values skip what an override already took, so an override on
// node03 never collides with the value auto-assignment would give node04.
export function resolveNodes(profile: Profile): ResolvedNode[] {
	const subnet = parseSubnet(profile.network.subnet);
	const taken = {
		ip: new Set(profile.nodes.map(n => n.ip).filter(Boolean)),
		mac: new Set(profile.nodes.map(n => n.mac?.toLowerCase()).filter(Boolean)),
		port: new Set(profile.nodes.map(n => n.sshPort).filter(p => p !== undefined)),
	};
	let nextIp = subnet ? subnet.network + profile.network.hostOffset : undefined;
	let nextMacIndex = 0;
	let nextPort = profile.network.sshPortBase;
	const prefix = macPrefixOf(profile);

	return profile.nodes.map((spec: NodeSpec, index) => {
		let ip = spec.ip;
		if (ip === undefined) {
			if (nextIp === undefined) ip = '';
			else {
				while (taken.ip.has(formatIpv4(nextIp))) nextIp++;
				ip = formatIpv4(nextIp);
				nextIp++;
			}
		}

		let mac = spec.mac?.toLowerCase();
		if (mac === undefined) {
			while (taken.mac.has(macFor(prefix, nextMacIndex))) nextMacIndex++;
			mac = macFor(prefix, nextMacIndex);
			nextMacIndex++;
		}

		let sshPort = spec.sshPort;
		if (sshPort === undefined) {
			while (taken.port.has(nextPort)) nextPort++;
			sshPort = nextPort;
			nextPort++;
		}

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

export function isValidIp(text: string): boolean {
	return parseIpv4(text) !== undefined;
}
