import net from 'node:net';

// Ports on 127.0.0.1 nobody listens on right now, chosen by the kernel (bind to port 0): for a
// short-lived boot (doctor) that must not collide with the profile's own cluster.
export async function freeLoopbackPorts(count: number): Promise<number[]> {
	const servers = await Promise.all(
		Array.from({length: count}, () => new Promise<net.Server>((resolve, reject) => {
			const server = net.createServer();
			server.once('error', reject);
			server.listen(0, '127.0.0.1', () => resolve(server));
		})),
	);
	const ports = servers.map(server => (server.address() as net.AddressInfo).port);
	await Promise.all(servers.map(server => new Promise(resolve => server.close(resolve))));
	return ports;
}
