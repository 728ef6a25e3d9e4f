import {randomBytes} from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type {Duplex} from 'node:stream';
import tls from 'node:tls';
import ssh2 from 'ssh2';
import {ProblemError} from '../model/field-error.js';
import {writeFileAtomic} from './atomic-file.js';
import {fingerprintOfBlob} from './ssh-keys.js';
import {shellQuote} from './shell-quote.js';

const {Client} = ssh2;
type SFTPWrapper = import('ssh2').SFTPWrapper;

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

type PinStore = Record<string, {fingerprint: string; host: string; port: number; pinnedAt: string}>;

async function readPins(file: string): Promise<PinStore> {
	try {
		return JSON.parse(await fs.readFile(file, 'utf8')) as PinStore;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
		throw new Error(`pinned host keys ${file} cannot be read (${(error as Error).message}); it was left as it is`);
	}
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
const RECONNECT_TIMEOUT_MS = 10_000;
const EXEC_UPLOAD_TIMEOUT_MS = 60_000;

export type ExecResult = {code: number | null; signal?: string; stdout: string; stderr: string};

export class NodeSsh {
	#client: InstanceType<typeof Client>;
	#active = 0;
	#queue: Array<() => void> = [];
	#closed = false;
	#reconnecting: Promise<void> | undefined;
	// Closed by its owner: never reconnected.
	#ended = false;

	private constructor(
		client: InstanceType<typeof Client>,
		readonly target: SshTarget,
		readonly hostKey: string,
	) {
		this.#client = client;
		this.#watch(client);
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

	// A client replaced by a reconnect closing later says nothing about this connection.
	#watch(client: InstanceType<typeof Client>): void {
		client.on('close', () => {
			if (this.#client === client) this.#closed = true;
		});
	}

	async #acquire(): Promise<void> {
		if (this.#active >= MAX_CHANNELS) await new Promise<void>(resolve => this.#queue.push(resolve));
		this.#active++;
	}

	#release(): void {
		this.#active--;
		this.#queue.shift()?.();
	}

	async #channel<T>(open: () => Promise<T>): Promise<T> {
		await this.#acquire();
		try {
			return await open();
		} finally {
			this.#release();
		}
	}

	// One new connection for all operations that failed on the same client.
	async #reconnect(failed: InstanceType<typeof Client>): Promise<void> {
		if (this.#client !== failed) return;
		this.#reconnecting ??= NodeSsh.connect(this.target, {timeoutMs: RECONNECT_TIMEOUT_MS})
			.then(fresh => {
				if (this.#ended) {
					fresh.close();
					throw new Error('the connection was closed');
				}
				this.#client = fresh.#client;
				this.#closed = false;
				this.#watch(fresh.#client);
				failed.end();
			})
			.finally(() => (this.#reconnecting = undefined));
		await this.#reconnecting;
	}

	// Opening a channel that fails gets a new connection and one retry: dropbear
	// 2022.83 aborts the whole connection when a channel opens right after
	// another closed (mkj/dropbear #321). Only the open is retried: nothing ran.
	async #open<T>(what: string, open: (client: InstanceType<typeof Client>) => Promise<T>): Promise<T> {
		const client = this.#client;
		let first: Error;
		try {
			return await open(client);
		} catch (error) {
			first = error as Error;
			if (this.#ended || !isChannelOpenFailure(first)) throw new Error(`${this.target.node}: ${what}: ${first.message}`);
		}
		try {
			await this.#reconnect(client);
		} catch (error) {
			throw new Error(`${this.target.node}: ${what}: ${first.message}; a new connection failed too: ${(error as Error).message}`);
		}
		try {
			return await open(this.#client);
		} catch (error) {
			throw new Error(`${this.target.node}: ${what}: ${(error as Error).message} (also on a new connection after: ${first.message})`);
		}
	}

	// `input` is written to the command's stdin, which is then closed.
	exec(command: string, options: {timeoutMs?: number; signal?: AbortSignal; onLine?: (line: string, stream: 'stdout' | 'stderr') => void; input?: string | Buffer} = {}): Promise<ExecResult> {
		return this.#channel(async () => {
			const stream = await this.#open('cannot run a command', client => new Promise<ssh2.ClientChannel>((resolve, reject) => client.exec(command, (error, opened) => (error ? reject(error) : resolve(opened)))));
			return new Promise<ExecResult>((resolve, reject) => {
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
				if (options.input !== undefined) stream.end(options.input);
			});
		});
	}

	// Files for a whole install: one SFTP session, or exec (cat, chmod, mv) when
	// the node has no sftp-server (busybox images: the subsystem exits 127 or is refused).
	async openFiles(): Promise<RemoteFiles> {
		await this.#acquire();
		let sftp: SFTPWrapper;
		try {
			sftp = await this.#open('SFTP unavailable', client => openSftp(client));
		} catch (error) {
			this.#release();
			// Refused on a fresh connection too, or its command not found: no sftp-server. A node that cannot be reached again is not that.
			const message = (error as Error).message;
			if (/Received exit code 127 while establishing SFTP session|Unable to start subsystem: sftp/.test(message) && !message.includes('a new connection failed too')) return new ExecFiles(this);
			throw error;
		}
		return new SftpFiles(this.target.node, sftp, () => this.#release());
	}

	async writeFile(remotePath: string, content: string | Buffer, mode: number): Promise<void> {
		const files = await this.openFiles();
		try {
			await files.writeFile(remotePath, content, mode);
		} finally {
			files.close();
		}
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
		this.#ended = true;
		this.#client.end();
	}
}

function openSftp(client: InstanceType<typeof Client>): Promise<SFTPWrapper> {
	return new Promise((resolve, reject) => client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))));
}

// Errors of opening a channel (exec, subsystem) that a new connection may cure;
// an sftp-server that ran and exited is not one of them.
function isChannelOpenFailure(error: Error): boolean {
	return !/while establishing SFTP session/.test(error.message);
}

// How files reach a node: `via` is what the install output says.
export type RemoteFiles = {
	readonly via: 'sftp' | 'exec (no sftp-server on the node)';
	// Writes with the exact mode; missing parents are created 0700.
	writeFile(remotePath: string, content: string | Buffer, mode: number): Promise<void>;
	upload(localPath: string, remotePath: string, mode: number): Promise<void>;
	close(): void;
};

class SftpFiles implements RemoteFiles {
	readonly via = 'sftp';
	#closed = false;

	constructor(
		readonly node: string,
		readonly sftp: SFTPWrapper,
		readonly release: () => void,
	) {}

	async writeFile(remotePath: string, content: string | Buffer, mode: number): Promise<void> {
		const {sftp} = this;
		try {
			await mkdirs(sftp, path.posix.dirname(remotePath));
			await new Promise<void>((resolve, reject) => sftp.writeFile(remotePath, content, {mode}, error => (error ? reject(error) : resolve())));
			await new Promise<void>((resolve, reject) => sftp.chmod(remotePath, mode, error => (error ? reject(error) : resolve())));
		} catch (error) {
			throw new Error(`${this.node}: cannot write ${remotePath}: ${(error as Error).message}`);
		}
	}

	async upload(localPath: string, remotePath: string, mode: number): Promise<void> {
		await this.writeFile(remotePath, await fs.readFile(localPath), mode);
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.sftp.end();
		this.release();
	}
}

// One command per file: missing parents made 0700, the content written to a
// temporary name under umask 077, given its mode, then renamed over the target.
class ExecFiles implements RemoteFiles {
	readonly via = 'exec (no sftp-server on the node)';

	constructor(readonly ssh: NodeSsh) {}

	async writeFile(remotePath: string, content: string | Buffer, mode: number): Promise<void> {
		const parents: string[] = [];
		for (let dir = path.posix.dirname(remotePath); dir !== '/' && dir !== '.'; dir = path.posix.dirname(dir)) parents.unshift(dir);
		const target = shellQuote(remotePath);
		const temporary = shellQuote(`${remotePath}.plasma-upload-${randomBytes(6).toString('hex')}`);
		const command = [
			'umask 077',
			...(parents.length > 0 ? [`for d in ${parents.map(shellQuote).join(' ')}; do [ -d "$d" ] || mkdir -m 700 "$d" || exit 1; done`] : []),
			`cat > ${temporary} && chmod ${mode.toString(8).padStart(4, '0')} ${temporary} && mv -f ${temporary} ${target} || { rm -f ${temporary}; exit 1; }`,
		].join('; ');
		const result = await this.ssh.exec(command, {timeoutMs: EXEC_UPLOAD_TIMEOUT_MS, input: content});
		if (result.code !== 0) throw new Error(`${this.ssh.target.node}: cannot write ${remotePath} through exec: exited ${result.code ?? result.signal ?? 'without a status'}${result.stderr.trim() ? `: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
	}

	async upload(localPath: string, remotePath: string, mode: number): Promise<void> {
		await this.writeFile(remotePath, await fs.readFile(localPath), mode);
	}

	close(): void {}
}

async function mkdirs(sftp: SFTPWrapper, dir: string): Promise<void> {
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
