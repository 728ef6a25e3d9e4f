import {createHash} from 'node:crypto';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function isMac(text: string): boolean {
	return MAC.test(text);
}

// The I/G bit (lowest bit of the first octet) marks a multicast address; a NIC cannot use one.
export function isMulticastMac(text: string): boolean {
	return (Number.parseInt(text.slice(0, 2), 16) & 1) === 1;
}

// Two octets that stay the same for a profile name, so reruns keep their MACs
// and two profiles on one host do not collide by default.
export function macPrefixFor(profileName: string): string {
	const digest = createHash('sha256').update(profileName).digest();
	return [digest[0]!, digest[1]!].map(b => b.toString(16).padStart(2, '0')).join(':');
}

export function macFor(prefix: string, index: number): string {
	return `52:54:00:${prefix}:${(index + 1).toString(16).padStart(2, '0')}`;
}

// The management (user-mode) NIC's MAC: the cluster MAC with bit 3 of the first octet flipped,
// kept unicast and locally administered (52:54:00:... -> 5a:54:00:...). Fixed per node, so the
// installed system finds that NIC by MAC after a reboot, and never equal to the node's cluster MAC.
export function mgmtMacFor(clusterMac: string): string {
	const first = ((Number.parseInt(clusterMac.slice(0, 2), 16) ^ 0x08) | 0x02) & 0xfe;
	return `${first.toString(16).padStart(2, '0')}${clusterMac.slice(2).toLowerCase()}`;
}
