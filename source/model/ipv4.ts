// Small IPv4 helpers; no dependency needed for /8-/30 subnet arithmetic.

export type Subnet = {network: number; prefix: number; size: number};

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number | undefined {
	const match = IPV4.exec(text);
	if (!match) return undefined;
	const octets = match.slice(1).map(Number);
	if (octets.some(o => o > 255)) return undefined;
	if (match.slice(1).some(o => o.length > 1 && o.startsWith('0'))) return undefined;
	return ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
}

export function formatIpv4(value: number): string {
	return [24, 16, 8, 0].map(shift => (value >>> shift) & 255).join('.');
}

export function parseSubnet(text: string): Subnet | undefined {
	const [address, prefixText, extra] = text.split('/');
	if (extra !== undefined || address === undefined || prefixText === undefined) return undefined;
	if (!/^\d{1,2}$/.test(prefixText)) return undefined;
	const prefix = Number(prefixText);
	if (prefix < 8 || prefix > 30) return undefined;
	const ip = parseIpv4(address);
	if (ip === undefined) return undefined;
	const size = 2 ** (32 - prefix);
	const network = ip - (ip % size);
	if (network !== ip) return undefined;
	return {network, prefix, size};
}

export function inSubnet(ip: number, subnet: Subnet): boolean {
	return ip >= subnet.network && ip < subnet.network + subnet.size;
}

export function broadcastOf(subnet: Subnet): number {
	return subnet.network + subnet.size - 1;
}
