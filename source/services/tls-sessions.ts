import {createHash} from 'node:crypto';
import type tls from 'node:tls';

// TLS sessions to ports reached through one SSH connection, kept for resumption:
// a resumed handshake skips the server's signature and the client-certificate
// verification (a TCG guest's etcd pays for both on every check's connection).
// Keyed by where and as whom: a session is never offered to another port, name or identity.
// A server that no longer knows a session (restarted, new ticket keys) answers with a
// full handshake, and the newer session replaces the old one.
export class TlsSessions {
	readonly #sessions = new Map<string, Buffer>();

	static key(options: {destHost: string; port: number; servername?: string; ca?: string; cert?: string}): string {
		const identity = createHash('sha256').update(options.ca ?? '').update('\0').update(options.cert ?? '').digest('hex');
		return `${options.destHost}:${options.port}:${options.servername ?? ''}:${identity}`;
	}

	get(key: string): Buffer | undefined {
		return this.#sessions.get(key);
	}

	// Sessions a socket receives (TLS 1.3 sends its tickets after the handshake).
	keep(key: string, socket: tls.TLSSocket): void {
		socket.on('session', (session: Buffer) => this.#sessions.set(key, session));
	}
}
