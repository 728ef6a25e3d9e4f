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
