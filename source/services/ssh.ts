import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type {Duplex} from 'node:stream';
import tls from 'node:tls';
import ssh2 from 'ssh2';
import {z} from 'zod';
import {ProblemError} from '../model/field-error.js';
import {writeFileAtomic} from './atomic-file.js';
import {fingerprintOfBlob} from './ssh-keys.js';
import {readJsonFile} from './json-file.js';

const {Client} = ssh2;

// SSH to the nodes through ssh2, in-process. Host keys are pinned per profile
// on first contact; a changed key is refused, never re-pinned silently.

export type SshTarget = {node: string; host: string; port: number; username: string; privateKeyPath: string; pinStorePath: string; pinned?: string};

// Its own class: waitForSsh stops retrying on it.
export class HostKeyMismatchError extends ProblemError {
	constructor(
		readonly node: string,
		readonly expected: string,
		readonly presented: string,
		pinStorePath: string,
	) {
		super({
			message: `${node} presented host key ${presented}, but ${expected} is pinned for it: refusing to connect`,
			fix: `if the node was really reinstalled, remove its entry from ${pinStorePath} or ssh.hostKeys in the profile; otherwise find out who answers on that port`,
		});
	}
}

const pinStoreSchema = z.record(z.string(), z.strictObject({fingerprint: z.string(), host: z.string(), port: z.number().int(), pinnedAt: z.string()}));
type PinStore = z.infer<typeof pinStoreSchema>;

// Not a cache: a pins file that cannot be read is reported, never rebuilt (rebuilding would trust whoever answers next).
async function readPins(file: string): Promise<PinStore> {
	const read = await readJsonFile(file, pinStoreSchema);
	if (read.status === 'absent') return {};
	if (read.status === 'ok') return read.value;
	throw new ProblemError({message: `pinned host keys ${file} ${read.why}; it was left as it is`, fix: `fix the file, or move it away if every node was really reinstalled (their keys are pinned again on the next contact)`});
}

// Pins from several nodes arrive at once; one writer at a time.
let pinWrites: Promise<unknown> = Promise.resolve();
function pinHostKey(target: SshTarget, fingerprint: string): Promise<void> {
	const write = pinWrites.then(async () => {
		const pins = await readPins(target.pinStorePath);
		if (pins[target.node]) return;
		pins[target.node] = {fingerprint, host: target.host, port: target.port, pinnedAt: new Date().toISOString()};
		await fs.mkdir(path.dirname(target.pinStorePath), {recursive: true, mode: 0o700});
		await writeFileAtomic(target.pinStorePath, `${JSON.stringify(pins, null, 2)}\n`, 0o600);
	});
	pinWrites = write.catch(() => undefined);
	return write;
}

export async function pinnedKeyFor(target: SshTarget): Promise<string | undefined> {
	return target.pinned ?? (await readPins(target.pinStorePath))[target.node]?.fingerprint;
}

// Messages a person can act on, for the pane and the plain output. `banner`
// is the server's identification line, when one arrived.
type Progress = {tcpConnected: boolean; banner?: string; timeoutMs: number};
function explain(error: Error & {level?: string; code?: string}, target: SshTarget, progress: Progress): Error {
	if (error instanceof HostKeyMismatchError) return error;
	const where = `${target.host}:${target.port}`;
	const seconds = Math.round(progress.timeoutMs / 1000);
	if (error.code === 'ECONNREFUSED') return new Error(`connection refused on ${where}: nothing listens there yet`);
	if (error.code === 'ECONNRESET') return new Error(`connection reset by ${where}${progress.banner ? '' : ' before any SSH banner'}`);
	if (error.level === 'client-authentication') {
		return new ProblemError({message: `${where} refused ${target.username} with the key ${target.privateKeyPath}`, fix: `the node's authorized_keys must hold ${target.privateKeyPath}.pub`});
	}
	if (error.level === 'client-timeout' && !progress.tcpConnected) return new Error(`no TCP connection to ${where} within ${seconds} s`);
	if (!progress.banner && (error.level === 'client-timeout' || /before handshake/i.test(error.message))) {
		// QEMU's port forward accepts at once and closes when the guest has no SSH server yet.
		return error.level === 'client-timeout'
			? new Error(`connected to ${where} but no SSH banner within ${seconds} s (the port accepts TCP, but no SSH server answers on it)`)
			: new Error(`${where} accepted TCP and closed it before any SSH banner (the node's SSH server is not up yet)`);
	}
	if (error.level === 'client-timeout') return new Error(`${where} (${progress.banner}) did not finish the SSH handshake within ${seconds} s`);
	return new Error(`${where}: ${error.message}`);
}

const MAX_CHANNELS = 8;

export type ExecResult = {code: number | null; signal?: string; stdout: string; stderr: string};

export class NodeSsh {
	#client: InstanceType<typeof Client>;
	#active = 0;
	#queue: Array<() => void> = [];
	#closed = false;

	private constructor(
		client: InstanceType<typeof Client>,
		readonly target: SshTarget,
		readonly hostKey: string,
	) {
		this.#client = client;
		client.on('close', () => (this.#closed = true));
	}

	get closed(): boolean {
		return this.#closed;
	}

	static async connect(target: SshTarget, options: {timeoutMs: number; signal?: AbortSignal}): Promise<NodeSsh> {
		options.signal?.throwIfAborted();
		const privateKey = await fs.readFile(target.privateKeyPath);
		const pinned = await pinnedKeyFor(target);
		const client = new Client();
		let presented = '';
		let mismatch: HostKeyMismatchError | undefined;
		const progress: Progress = {tcpConnected: false, timeoutMs: options.timeoutMs};
		return new Promise<NodeSsh>((resolve, reject) => {
			const onAbort = () => {
				client.destroy();
				reject(options.signal!.reason ?? new Error('aborted'));
			};
			options.signal?.addEventListener('abort', onAbort, {once: true});
			const done = () => options.signal?.removeEventListener('abort', onAbort);
			client.on('connect', () => (progress.tcpConnected = true));
			client.on('ready', () => {
				done();
				const finish = () => resolve(new NodeSsh(client, target, presented));
				if (pinned) finish();
				else pinHostKey(target, presented).then(finish, error => {
					client.end();
					reject(error);
				});
			});
			client.on('error', error => {
				done();
				client.destroy();
				reject(mismatch ?? explain(error as Error & {level?: string}, target, progress));
			});
			try {
				connectClient();
			} catch (error) {
				done();
				reject(new Error(`${target.node}: the key ${target.privateKeyPath} cannot be used: ${(error as Error).message}`));
			}
		});
		function connectClient() {
			client.connect({
				host: target.host,
				port: target.port,
				username: target.username,
				privateKey,
				readyTimeout: options.timeoutMs,
				keepaliveInterval: 15_000,
				// ssh2 tells whether the server identified itself only through its debug hook.
				debug: (message: string) => {
					if (!progress.banner && message.startsWith('Remote ident: ')) progress.banner = message.slice(14).replace(/^'|'$/g, '');
				},
				hostVerifier: (key: Buffer) => {
					presented = fingerprintOfBlob(key);
					if (pinned && pinned !== presented) {
						mismatch = new HostKeyMismatchError(target.node, pinned, presented, target.pinStorePath);
						return false;
					}
					return true;
				},
			});
		}
	}

	async #channel<T>(open: () => Promise<T>): Promise<T> {
		if (this.#active >= MAX_CHANNELS) await new Promise<void>(resolve => this.#queue.push(resolve));
		this.#active++;
		try {
			return await open();
		} finally {
			this.#active--;
			this.#queue.shift()?.();
		}
	}

	exec(command: string, options: {timeoutMs?: number; signal?: AbortSignal; onLine?: (line: string, stream: 'stdout' | 'stderr') => void} = {}): Promise<ExecResult> {
		return this.#channel(
			() =>
				new Promise<ExecResult>((resolve, reject) => {
					this.#client.exec(command, (error, stream) => {
						if (error) return reject(new Error(`${this.target.node}: cannot run a command: ${error.message}`));
						let stdout = '';
						let stderr = '';
						const partial = {stdout: '', stderr: ''};
						const feed = (which: 'stdout' | 'stderr', chunk: Buffer) => {
							const text = chunk.toString();
							if (which === 'stdout') stdout += text;
							else stderr += text;
							if (!options.onLine) return;
							const lines = (partial[which] + text).split('\n');
							partial[which] = lines.pop() ?? '';
							for (const line of lines) options.onLine(line.replace(/\r$/, ''), which);
						};
						const timer = options.timeoutMs
							? setTimeout(() => {
									stream.close();
									reject(new Error(`${this.target.node}: "${command.slice(0, 60)}" did not finish within ${Math.round(options.timeoutMs! / 1000)} s`));
								}, options.timeoutMs)
							: undefined;
						const onAbort = () => {
							clearTimeout(timer);
							stream.close();
							reject(options.signal!.reason ?? new Error('aborted'));
						};
						options.signal?.addEventListener('abort', onAbort, {once: true});
						stream.on('data', (chunk: Buffer) => feed('stdout', chunk));
						stream.stderr.on('data', (chunk: Buffer) => feed('stderr', chunk));
						stream.on('close', (code: number | null, signal?: string) => {
							clearTimeout(timer);
							options.signal?.removeEventListener('abort', onAbort);
							for (const which of ['stdout', 'stderr'] as const) if (partial[which] && options.onLine) options.onLine(partial[which], which);
							resolve({code: code ?? null, signal, stdout, stderr});
						});
					});
				}),
		);
	}

	#sftp(): Promise<import('ssh2').SFTPWrapper> {
		return new Promise((resolve, reject) => this.#client.sftp((error, sftp) => (error ? reject(new Error(`${this.target.node}: SFTP unavailable: ${error.message}`)) : resolve(sftp))));
	}

	// SFTP write with the exact mode, parents created (0700 for new directories).
	async writeFile(remotePath: string, content: string | Buffer, mode: number): Promise<void> {
		await this.#channel(async () => {
			const sftp = await this.#sftp();
			try {
				await mkdirs(sftp, path.posix.dirname(remotePath));
				await new Promise<void>((resolve, reject) => sftp.writeFile(remotePath, content, {mode}, error => (error ? reject(error) : resolve())));
				await new Promise<void>((resolve, reject) => sftp.chmod(remotePath, mode, error => (error ? reject(error) : resolve())));
			} catch (error) {
				throw new Error(`${this.target.node}: cannot write ${remotePath}: ${(error as Error).message}`);
			} finally {
				sftp.end();
			}
		});
	}

	async upload(localPath: string, remotePath: string, mode: number): Promise<void> {
		await this.writeFile(remotePath, await fs.readFile(localPath), mode);
	}

	forwardOut(destHost: string, destPort: number): Promise<Duplex> {
		return new Promise((resolve, reject) =>
			this.#client.forwardOut('127.0.0.1', 0, destHost, destPort, (error, stream) => (error ? reject(new Error(`${this.target.node}: no tunnel to ${destHost}:${destPort}: ${error.message}`)) : resolve(stream))),
		);
	}

	// HTTP(S) through an SSH tunnel: no port is opened on the host.
	async httpsRequest(options: {destHost: string; port: number; path: string; method?: string; body?: string; https?: boolean; ca?: string; cert?: string; key?: string; servername?: string; timeoutMs: number}): Promise<{status: number; headers: Record<string, string | string[] | undefined>; body: string; peerCertificate?: {raw: Buffer}}> {
		const stream = await this.forwardOut(options.destHost, options.port);
		const secure = options.https !== false;
		return new Promise((resolve, reject) => {
			let peerCertificate: {raw: Buffer} | undefined;
			const socket = secure
				? tls.connect({
						socket: stream,
						ca: options.ca,
						cert: options.cert,
						key: options.key,
						servername: options.servername ?? (net.isIP(options.destHost) ? undefined : options.destHost),
						host: options.destHost,
						checkServerIdentity: (host, cert) => tls.checkServerIdentity(options.destHost, cert),
					})
				: stream;
			if (secure) (socket as tls.TLSSocket).once('secureConnect', () => (peerCertificate = (socket as tls.TLSSocket).getPeerCertificate()));
			// HTTP over the socket made above (already TLS when secure).
			const request = http.request(
				{
					host: options.destHost,
					port: options.port,
					path: options.path,
					method: options.method ?? (options.body ? 'POST' : 'GET'),
					headers: options.body ? {'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body)} : {},
					// No agent: with one (even agent: false) node dials host:port itself and ignores createConnection.
					createConnection: () => socket as net.Socket,
					timeout: options.timeoutMs,
				},
				response => {
					let body = '';
					response.setEncoding('utf8');
					response.on('data', chunk => (body += chunk));
					response.on('end', () => resolve({status: response.statusCode ?? 0, headers: response.headers, body, peerCertificate}));
					response.on('error', reject);
				},
			);
			request.on('timeout', () => request.destroy(new Error(`no answer from ${options.destHost}:${options.port}${options.path} within ${Math.round(options.timeoutMs / 1000)} s`)));
			request.on('error', error => {
				stream.destroy();
				reject(error);
			});
			request.end(options.body);
		});
	}

	// The certificate a port serves, whoever signed it (the TLS check judges it, not the handshake).
	async servedCertificate(destHost: string, port: number, options: {cert?: string; key?: string; timeoutMs: number}): Promise<Buffer> {
		const stream = await this.forwardOut(destHost, port);
		return new Promise((resolve, reject) => {
			const socket = tls.connect({socket: stream, cert: options.cert, key: options.key, rejectUnauthorized: false, servername: net.isIP(destHost) ? undefined : destHost});
			const timer = setTimeout(() => {
				socket.destroy();
				reject(new Error(`no TLS handshake with ${destHost}:${port} within ${Math.round(options.timeoutMs / 1000)} s`));
			}, options.timeoutMs);
			socket.once('secureConnect', () => {
				clearTimeout(timer);
				const raw = socket.getPeerCertificate().raw;
				socket.end();
				resolve(raw);
			});
			socket.once('error', error => {
				clearTimeout(timer);
				reject(error);
			});
		});
	}

	close(): void {
		this.#client.end();
	}
}

async function mkdirs(sftp: import('ssh2').SFTPWrapper, dir: string): Promise<void> {
	if (dir === '/' || dir === '.') return;
	const exists = await new Promise<boolean>(resolve => sftp.stat(dir, error => resolve(!error)));
	if (exists) return;
	await mkdirs(sftp, path.posix.dirname(dir));
	await new Promise<void>((resolve, reject) => sftp.mkdir(dir, {mode: 0o700}, error => (error ? reject(error) : resolve())));
}

// After the console's ready line the server is due any moment: poll at this
// pace instead of the backoff, but never in a tight loop.
const WOKEN_POLL_MS = 250;
const MIN_ATTEMPT_MS = 250;

// Retries with backoff until the node answers or the time is up; says what it
// waits for. The whole wait, last attempt included, stays within timeoutMs.
export async function waitForSsh(
	target: SshTarget,
	options: {timeoutMs: number; signal?: AbortSignal; attemptTimeoutMs?: number; onWait?: (info: {lastError: string; elapsedMs: number; attempt: number}) => void; wake?: {promise: Promise<unknown>}},
): Promise<NodeSsh> {
	const started = Date.now();
	let delay = 500;
	let lastError = 'not tried yet';
	let woken = false;
	void options.wake?.promise.then(() => (woken = true), () => undefined);
	for (let attempt = 1; ; attempt++) {
		options.signal?.throwIfAborted();
		try {
			const remaining = options.timeoutMs - (Date.now() - started);
			return await NodeSsh.connect(target, {timeoutMs: Math.max(MIN_ATTEMPT_MS, Math.min(options.attemptTimeoutMs ?? 10_000, remaining)), signal: options.signal});
		} catch (error) {
			if (error instanceof HostKeyMismatchError || options.signal?.aborted) throw error;
			lastError = (error as Error).message;
		}
		const elapsedMs = Date.now() - started;
		if (elapsedMs >= options.timeoutMs - MIN_ATTEMPT_MS) {
			throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for SSH on ${target.node} (${target.host}:${target.port}): ${lastError}`);
		}
		options.onWait?.({lastError, elapsedMs, attempt});
		const pause = Math.min(woken ? Math.min(delay, WOKEN_POLL_MS) : delay, options.timeoutMs - MIN_ATTEMPT_MS - elapsedMs);
		const wake = !woken && options.wake ? [options.wake.promise.catch(() => undefined)] : [];
		await Promise.race([sleep(pause, options.signal), ...wake]);
		delay = Math.min(delay * 2, 5000);
	}
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise(resolve => {
		const timer = setTimeout(done, ms);
		signal?.addEventListener('abort', done, {once: true});
		function done() {
			clearTimeout(timer);
			signal?.removeEventListener('abort', done);
			resolve();
		}
	});
}
