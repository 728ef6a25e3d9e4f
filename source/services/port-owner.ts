import fs from 'node:fs/promises';
import os from 'node:os';

// Who listens on a loopback TCP port: the listening sockets' inodes from
// /proc/net/tcp{,6}, matched against the `socket:[inode]` links in
// /proc/<pid>/fd. A netboot image's own host key is trusted only when the
// port it answers on is held by the QEMU process this run started.

export type PortOwnership = {owned: boolean; why: string};

const LISTEN = '0A';

// /proc prints an IPv4 address as the hex of a host-order 32-bit word.
function ipv4Hex(address: string): string {
	const bytes = address.split('.').map(part => Number(part).toString(16).padStart(2, '0').toUpperCase());
	return (os.endianness() === 'LE' ? bytes.reverse() : bytes).join('');
}

// Addresses through which a connection to 127.0.0.1 can land: the address itself and the wildcard.
const IPV4_MATCHES = new Set([ipv4Hex('127.0.0.1'), ipv4Hex('0.0.0.0')]);
const IPV6_ANY = '0'.repeat(32);
const IPV6_MAPPED_LOOPBACK = os.endianness() === 'LE' ? '0000000000000000FFFF00000100007F' : '00000000000000000000FFFF7F000001';

async function listeningInodes(port: number): Promise<string[]> {
	const portHex = port.toString(16).toUpperCase().padStart(4, '0');
	const inodes: string[] = [];
	for (const [file, matches] of [
		['/proc/net/tcp', IPV4_MATCHES],
		['/proc/net/tcp6', new Set([IPV6_ANY, IPV6_MAPPED_LOOPBACK])],
	] as const) {
		const text = await fs.readFile(file, 'utf8').catch(() => '');
		for (const line of text.split('\n').slice(1)) {
			const fields = line.trim().split(/\s+/);
			const [address, localPort] = (fields[1] ?? '').split(':');
			if (fields[3] !== LISTEN || localPort !== portHex || !matches.has(address ?? '')) continue;
			if (fields[9] && fields[9] !== '0') inodes.push(fields[9]);
		}
	}
	return inodes;
}

async function socketInodesOf(pid: number): Promise<Set<string>> {
	const dir = `/proc/${pid}/fd`;
	const entries = await fs.readdir(dir);
	const links = await Promise.all(entries.map(entry => fs.readlink(`${dir}/${entry}`).catch(() => '')));
	return new Set(links.flatMap(link => /^socket:\[(\d+)\]$/.exec(link)?.[1] ?? []));
}

// True only when something listens on 127.0.0.1:<port> and every such listener is a socket of `pid`.
export async function portOwnedBy(port: number, pid: number): Promise<PortOwnership> {
	const inodes = await listeningInodes(port);
	if (inodes.length === 0) return {owned: false, why: `nothing listens on 127.0.0.1:${port}`};
	let sockets: Set<string>;
	try {
		sockets = await socketInodesOf(pid);
	} catch (error) {
		return {owned: false, why: `the sockets of pid ${pid} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`};
	}
	const foreign = inodes.filter(inode => !sockets.has(inode));
	return foreign.length === 0 ? {owned: true, why: `127.0.0.1:${port} is held by pid ${pid}`} : {owned: false, why: `127.0.0.1:${port} is held by another process than pid ${pid}`};
}
