import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type {NodeSsh} from '../ssh.js';
import {CheckFailure} from './check-definition.js';
import type {NodeSecrets} from './check-helpers.js';

// One unary gRPC call to etcd's KV service over the node's SSH tunnel, for
// what speaks only gRPC: `etcd grpc-proxy` serves no JSON gateway (/v3/kv/put
// answers 404 there), so a write through a worker's proxy is made the way
// etcdctl makes it. Only the few protobuf fields a put needs are encoded.

function varint(value: number): Buffer {
	const bytes: number[] = [];
	while (value > 0x7f) {
		bytes.push((value & 0x7f) | 0x80);
		value >>>= 7;
	}
	bytes.push(value);
	return Buffer.from(bytes);
}

// A length-delimited protobuf field (bytes or string).
function bytesField(field: number, value: string): Buffer {
	const data = Buffer.from(value);
	return Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
}

// etcdserverpb.PutRequest {key = 1, value = 2} in gRPC's framing: no compression, 4-byte length.
export function putRequestFrame(key: string, value: string): Buffer {
	const message = Buffer.concat([bytesField(1, key), bytesField(2, value)]);
	const header = Buffer.alloc(5);
	header.writeUInt32BE(message.length, 1);
	return Buffer.concat([header, message]);
}

type GrpcTarget = {ssh: NodeSsh; host: string; port: number; secrets: NodeSecrets; timeoutMs: number};

// Puts key = value through whatever serves etcd's gRPC API at host:port (a member or a grpc-proxy).
export async function grpcPut(target: GrpcTarget, key: string, value: string): Promise<void> {
	const {host, port, secrets, timeoutMs} = target;
	const stream = await target.ssh.forwardOut(host, port, timeoutMs);
	const where = `${host}:${port}`;
	await new Promise<void>((resolve, reject) => {
		let settled = false;
		const socket = tls.connect({
			socket: stream,
			ALPNProtocols: ['h2'],
			...secrets,
			servername: net.isIP(host) ? undefined : host,
			checkServerIdentity: (_name, cert) => tls.checkServerIdentity(host, cert),
		});
		const session = http2.connect(`https://${host}:${port}`, {createConnection: () => socket});
		const done = (error?: Error) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			session.close();
			socket.destroy();
			if (error) reject(error);
			else resolve();
		};
		const timer = setTimeout(() => done(new CheckFailure(`no gRPC answer from ${where} within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
		session.on('error', error => done(new CheckFailure(`gRPC to ${where}: ${error.message}`)));
		const request = session.request({':method': 'POST', ':path': '/etcdserverpb.KV/Put', 'content-type': 'application/grpc', te: 'trailers'});
		// A gRPC error comes as a trailers-only answer (grpc-status in the headers) or in the trailers.
		const status = (headers: http2.IncomingHttpHeaders) => {
			const code = headers['grpc-status'];
			if (code === undefined) return;
			if (code === '0') done();
			else done(new CheckFailure(`gRPC Put through ${where} failed: status ${String(code)} ${decodeURIComponent(String(headers['grpc-message'] ?? ''))}`.trim()));
		};
		request.on('response', headers => {
			if (headers[':status'] !== 200) done(new CheckFailure(`gRPC Put through ${where} answered HTTP ${String(headers[':status'])}`));
			else status(headers);
		});
		request.on('trailers', status);
		request.on('error', error => done(new CheckFailure(`gRPC Put through ${where}: ${error.message}`)));
		request.on('data', () => undefined);
		request.on('end', () => done(new CheckFailure(`gRPC Put through ${where} ended without a status`)));
		request.end(putRequestFrame(key, value));
	});
}
