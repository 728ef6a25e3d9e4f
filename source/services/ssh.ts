import {randomBytes} from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type {Duplex} from 'node:stream';
import tls from 'node:tls';
import ssh2 from 'ssh2';
import {z} from 'zod';
import {ProblemError, problemOf} from '../model/field-error.js';
import {writeFileAtomic} from './atomic-file.js';
import type {HostKeyPolicy} from '../model/profile-schema.js';
import {fingerprintOfBlob, fingerprintOfPublicKeyFile} from './ssh-keys.js';
import {portOwnedBy} from './port-owner.js';
import {shellQuote} from './shell-quote.js';
import {readJsonFile} from './json-file.js';
import {ensureUsableDir} from './owned-dir.js';
import {withDeadline} from './wait.js';
import {TlsSessions} from './tls-sessions.js';

const {Client} = ssh2;
type SFTPWrapper = import('ssh2').SFTPWrapper;

// SSH to the nodes through ssh2, in-process. Which host key a node must
// present is decided before first contact (see model/host-key.ts): under
// ssh.hostKeyPolicy `generated`, the key the tool generated for the node; a
// netboot image's own key only from the QEMU this run started, on the port
// that QEMU holds, while the engine keeps the netboot window open (until
// install). Under `first-use` the first key seen is pinned in the pin file.
// A changed key is refused, never re-pinned silently.

// The netboot window of one node: another key is accepted while isOpen()
// says so and the listener on 127.0.0.1:<port> belongs to `pid`.
export type NetbootWindow = {pid: number; isOpen: () => boolean};

export type SshTarget = {
	node: string;
	host: string;
	port: number;
	username: string;
	privateKeyPath: string;
	pinStorePath: string;
	// ssh.hostKeys[node] in the profile: wins over the generated key and the pin file.
	pinned?: string;
	// ssh.hostKeyPolicy; absent means first-use (the pin file).
	policy?: HostKeyPolicy;
	// Under `generated`: the generated public key, whose fingerprint the installed system must present.
	generatedPublicKey?: string;
	netboot?: NetbootWindow;
	// An existing machine (target ssh-hosts): no key is pinned on first use; only up's
	// preflight with --accept-new-host-keys connects without a pin (and pins what it saw).
	pinRequired?: boolean;
	// A bastion (nodes[].ssh.jump): connected to first, its own key checked like any
	// target's; the machine is then reached through a tunnel it opens.
	jump?: SshTarget;
};

// How the key a session was opened with was trusted.
export type HostKeyTrust = 'pinned' | 'generated' | 'first-use' | 'netboot';

// Its own class: waitForSsh stops retrying on it.
export class HostKeyMismatchError extends ProblemError {
	constructor(
		readonly node: string,
		readonly expected: string,
		readonly presented: string,
		pinStorePath: string,
		context: {policy?: HostKeyPolicy; port?: number; why?: string} = {},
	) {
		const where = context.port ? `127.0.0.1:${context.port}` : 'that port';
		super(
			context.policy === 'generated'
				? {
						message: `${node} presented host key ${presented}, but the generated key ${expected} is expected${context.why ? ` (${context.why})` : ''}: refusing to connect`,
						fix: `if the node's image makes its own host key and ignores fw_cfg (opt/plasma/ssh_host_ed25519_key), set ssh.hostKeyPolicy to "first-use" (it pins the first key seen, ${presented} here, and refuses a change), or run down and up so that this run starts the node's QEMU (its netboot key is then accepted until install); otherwise find out who answers on ${where}`,
					}
				: {
						message: `${node} presented host key ${presented}, but ${expected} is pinned for it: refusing to connect`,
						fix: `if the node was really reinstalled, remove its entry from ${pinStorePath} or ssh.hostKeys in the profile; if a netboot image's own key was pinned and the installed system now presents the generated one, set ssh.hostKeyPolicy to "generated" (the generated key for the installed system, a netboot key only from this run's QEMU until install); otherwise find out who answers on ${where}`,
					},
		);
	}
}

// The expected key cannot be known (the generated key is missing, or a machine
// that needs a pin has none): waiting does not help either.
export class HostKeyUnknownError extends ProblemError {}

function notPinned(target: SshTarget, presented: string): HostKeyUnknownError {
	return new HostKeyUnknownError({
		message: `${target.node}: no host key is pinned for ${target.username}@${target.host}:${target.port}; it presents ${presented}: refusing to connect`,
		fix: `check the fingerprint on the machine itself (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it to ssh.hostKeys["${target.node}"], or run up --accept-new-host-keys to pin the first key seen`,
	});
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

// Pins from several nodes arrive at once; one writer at a time. Resolves with
// the key pinned for the node, which is an earlier one if another connection won.
let pinWrites: Promise<unknown> = Promise.resolve();
export function pinHostKey(target: SshTarget, fingerprint: string): Promise<string> {
	const write = pinWrites.then(async () => {
		const pins = await readPins(target.pinStorePath);
		if (pins[target.node]) return pins[target.node]!.fingerprint;
		pins[target.node] = {fingerprint, host: target.host, port: target.port, pinnedAt: new Date().toISOString()};
		await ensureUsableDir(path.dirname(target.pinStorePath));
		await writeFileAtomic(target.pinStorePath, `${JSON.stringify(pins, null, 2)}\n`, 0o600);
		return fingerprint;
	});
	pinWrites = write.catch(() => undefined);
	return write;
}

// A node that left the cluster (`node remove`): its pin goes with it, so a later node of that name is pinned afresh.
export function forgetPinnedHostKey(file: string, node: string): Promise<boolean> {
	const write = pinWrites.then(async () => {
		const pins = await readPins(file);
		if (!pins[node]) return false;
		delete pins[node];
		await writeFileAtomic(file, `${JSON.stringify(pins, null, 2)}\n`, 0o600);
		return true;
	});
	pinWrites = write.catch(() => undefined);
	return write;
}

export async function pinnedKeyFor(target: SshTarget): Promise<string | undefined> {
	return target.pinned ?? (await readPins(target.pinStorePath))[target.node]?.fingerprint;
}

// The key a node must present, read before first contact; none yet under first-use means "pin what comes".
async function expectedHostKey(target: SshTarget): Promise<{fingerprint?: string; trust: Exclude<HostKeyTrust, 'netboot'>}> {
	if (target.pinned) return {fingerprint: target.pinned, trust: 'pinned'};
	if (target.policy === 'generated') {
		if (!target.generatedPublicKey) throw new HostKeyUnknownError({message: `${target.node}: ssh.hostKeyPolicy is "generated" but no generated host key is known`, fix: 'run up, which generates the node keys before it boots'});
		try {
			return {fingerprint: await fingerprintOfPublicKeyFile(target.generatedPublicKey), trust: 'generated'};
		} catch (error) {
			throw new HostKeyUnknownError(problemOf(error));
		}
	}
	return {fingerprint: await pinnedKeyFor(target), trust: 'first-use'};
}

// Whether a key other than the expected one may pass: a netboot image's key on
// the loopback port held by this run's QEMU, while the window is open.
async function netbootAccepts(target: SshTarget): Promise<{ok: boolean; why: string}> {
	const window = target.netboot;
	if (target.policy !== 'generated' || !window) return {ok: false, why: 'no netboot window: the node\'s QEMU was not started by this run'};
	if (!window.isOpen()) return {ok: false, why: 'the netboot window closed at install: only the generated key is accepted now'};
	if (target.host !== '127.0.0.1') return {ok: false, why: `${target.host} is not the loopback forward of a QEMU`};
	const owner = await portOwnedBy(target.port, window.pid);
	return {ok: owner.owned, why: owner.owned ? owner.why : `not a netboot key of this run's QEMU: ${owner.why}`};
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
const FORWARD_TIMEOUT_MS = 15_000;
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
	#tlsSessions = new TlsSessions();

	private constructor(
		client: InstanceType<typeof Client>,
		readonly target: SshTarget,
		readonly hostKey: string,
		readonly hostKeyTrust: HostKeyTrust,
	) {
		this.#client = client;
		this.#watch(client);
	}

	get closed(): boolean {
		return this.#closed;
	}

	// Cancellation is checked after every await: an abort before the session
	// is handed over closes the connection, and no work starts on it.
	static async connect(target: SshTarget, options: {timeoutMs: number; signal?: AbortSignal}): Promise<NodeSsh> {
		const {signal} = options;
		signal?.throwIfAborted();
		const privateKey = await fs.readFile(target.privateKeyPath);
		signal?.throwIfAborted();
		const expected = await expectedHostKey(target);
		signal?.throwIfAborted();
		const hop = target.jump ? await throughJump(target, options) : undefined;
		const client = new Client();
		// The bastion's session lives as long as this connection (a reconnect opens its own).
		if (hop) client.on('close', () => hop.ssh.close());
		let presented = '';
		let trust: HostKeyTrust = expected.trust;
		let mismatch: HostKeyMismatchError | HostKeyUnknownError | undefined;
		const progress: Progress = {tcpConnected: false, timeoutMs: options.timeoutMs};
		const refuse = (pinned: string, why?: string) => new HostKeyMismatchError(target.node, pinned, presented, target.pinStorePath, {policy: expected.trust === 'generated' ? 'generated' : undefined, port: target.port, why});
		return new Promise<NodeSsh>((resolve, reject) => {
			let settled = false;
			const fail = (error: unknown) => {
				if (settled) return;
				settled = true;
				signal?.removeEventListener('abort', onAbort);
				client.destroy();
				hop?.ssh.close();
				reject(error);
			};
			const onAbort = () => fail(signal!.reason ?? new Error('aborted'));
			signal?.addEventListener('abort', onAbort, {once: true});
			client.on('connect', () => (progress.tcpConnected = true));
			client.on('ready', async () => {
				try {
					if (!expected.fingerprint) {
						const pinned = await pinHostKey(target, presented);
						if (pinned !== presented) throw (mismatch = refuse(pinned));
					}
				} catch (error) {
					return fail(error);
				}
				// An abort that landed meanwhile has already failed the promise and destroyed the client.
				if (settled) return;
				settled = true;
				signal?.removeEventListener('abort', onAbort);
				resolve(new NodeSsh(client, target, presented, trust));
			});
			client.on('error', error => fail(mismatch ?? explain(error as Error & {level?: string}, target, progress)));
			client.on('close', () => fail(mismatch ?? new Error(`${target.host}:${target.port} closed the connection during the SSH handshake`)));
			try {
				connectClient();
			} catch (error) {
				fail(new Error(`${target.node}: the key ${target.privateKeyPath} cannot be used: ${(error as Error).message}`));
			}
		});
		function connectClient() {
			client.connect({
				host: target.host,
				port: target.port,
				...(hop ? {sock: hop.sock} : {}),
				username: target.username,
				privateKey,
				readyTimeout: options.timeoutMs,
				keepaliveInterval: 15_000,
				// ssh2 tells whether the server identified itself only through its debug hook.
				debug: (message: string) => {
					if (!progress.banner && message.startsWith('Remote ident: ')) progress.banner = message.slice(14).replace(/^'|'$/g, '');
				},
				hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
					presented = fingerprintOfBlob(key);
					if (!expected.fingerprint && target.pinRequired) {
						mismatch = notPinned(target, presented);
						return verify(false);
					}
					if (!expected.fingerprint || expected.fingerprint === presented) return verify(!signal?.aborted);
					netbootAccepts(target).then(
						accepted => {
							if (accepted.ok) trust = 'netboot';
							else mismatch = refuse(expected.fingerprint!, accepted.why);
							verify(accepted.ok && !signal?.aborted);
						},
						error => {
							mismatch = refuse(expected.fingerprint!, (error as Error).message);
							verify(false);
						},
					);
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
	// timeoutMs counts from the call: a node that stops answering (frozen, its link cut) can hold the channel open itself.
	exec(command: string, options: {timeoutMs?: number; signal?: AbortSignal; onLine?: (line: string, stream: 'stdout' | 'stderr') => void; input?: string | Buffer} = {}): Promise<ExecResult> {
		const calledAt = Date.now();
		const tooLate = () => new Error(`${this.target.node}: "${command.slice(0, 60)}" did not finish within ${Math.round(options.timeoutMs! / 1000)} s`);
		return this.#channel(async () => {
			const opening = this.#open('cannot run a command', client => new Promise<ssh2.ClientChannel>((resolve, reject) => client.exec(command, (error, opened) => (error ? reject(error) : resolve(opened)))));
			const stream = options.timeoutMs ? await withDeadline(opening, options.timeoutMs - (Date.now() - calledAt), tooLate, opened => opened.close()) : await opening;
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
							reject(tooLate());
						}, Math.max(0, options.timeoutMs - (Date.now() - calledAt)))
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

	// The node's sshd connects to destHost itself: a host that drops packets (isolated) can keep it waiting for minutes.
	forwardOut(destHost: string, destPort: number, timeoutMs = FORWARD_TIMEOUT_MS): Promise<Duplex> {
		const opening = new Promise<Duplex>((resolve, reject) =>
			this.#client.forwardOut('127.0.0.1', 0, destHost, destPort, (error, stream) => (error ? reject(new Error(`${this.target.node}: no tunnel to ${destHost}:${destPort}: ${error.message}`)) : resolve(stream))),
		);
		return withDeadline(opening, timeoutMs, () => new Error(`${this.target.node}: no tunnel to ${destHost}:${destPort} within ${Math.round(timeoutMs / 1000)} s`), stream => stream.destroy());
	}

	// HTTP(S) through an SSH tunnel: no port is opened on the host.
	async httpsRequest(options: {destHost: string; port: number; path: string; method?: string; body?: string; https?: boolean; ca?: string; cert?: string; key?: string; servername?: string; timeoutMs: number}): Promise<{status: number; headers: Record<string, string | string[] | undefined>; body: string; peerCertificate?: {raw: Buffer}}> {
		const stream = await this.forwardOut(options.destHost, options.port, options.timeoutMs);
		const secure = options.https !== false;
		return new Promise((resolve, reject) => {
			let peerCertificate: {raw: Buffer} | undefined;
			let socket: Duplex = stream;
			if (secure) {
				const servername = options.servername ?? (net.isIP(options.destHost) ? undefined : options.destHost);
				const sessionKey = TlsSessions.key({...options, servername});
				const secured = tls.connect({
					socket: stream,
					ca: options.ca,
					cert: options.cert,
					key: options.key,
					servername,
					host: options.destHost,
					checkServerIdentity: (host, cert) => tls.checkServerIdentity(options.destHost, cert),
					session: this.#tlsSessions.get(sessionKey),
				});
				this.#tlsSessions.keep(sessionKey, secured);
				secured.once('secureConnect', () => (peerCertificate = secured.getPeerCertificate()));
				socket = secured;
			}
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
		const stream = await this.forwardOut(destHost, port, options.timeoutMs);
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
			const ssh = await NodeSsh.connect(target, {timeoutMs: Math.max(MIN_ATTEMPT_MS, Math.min(options.attemptTimeoutMs ?? 10_000, remaining)), signal: options.signal});
			if (!options.signal?.aborted) return ssh;
			ssh.close();
			options.signal.throwIfAborted();
		} catch (error) {
			if (error instanceof HostKeyMismatchError || error instanceof HostKeyUnknownError || options.signal?.aborted) throw error;
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
		options.signal?.throwIfAborted();
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

// A session on the target's bastion and a tunnel through it to the target, within the timeout.
async function throughJump(target: SshTarget, options: {timeoutMs: number; signal?: AbortSignal}): Promise<{ssh: NodeSsh; sock: Duplex}> {
	const bastion = `the bastion ${target.jump!.username}@${target.jump!.host}:${target.jump!.port}`;
	let ssh: NodeSsh;
	try {
		ssh = await NodeSsh.connect(target.jump!, options);
	} catch (error) {
		// A refused host key or login says itself (and is not retried); the rest is named as the bastion's.
		if (error instanceof ProblemError) throw error;
		throw new Error(`${target.node}: ${bastion}: ${(error as Error).message}`);
	}
	let timer: NodeJS.Timeout | undefined;
	try {
		const timeout = new Promise<never>((_resolve, reject) => {
			timer = setTimeout(() => reject(new Error(`the bastion ${target.jump!.host}:${target.jump!.port} opened no tunnel to ${target.host}:${target.port} within ${Math.round(options.timeoutMs / 1000)} s`)), options.timeoutMs);
		});
		const sock = await Promise.race([ssh.forwardOut(target.host, target.port), timeout]);
		options.signal?.throwIfAborted();
		return {ssh, sock};
	} catch (error) {
		ssh.close();
		throw new Error(`${target.node}: ${target.host}:${target.port} through ${bastion}: ${(error as Error).message}`);
	} finally {
		clearTimeout(timer);
	}
}

// The key a target presents, through its bastion when it has one (whose own key must match first).
export async function presentedHostKeyOf(target: SshTarget, options: {timeoutMs: number; signal?: AbortSignal}): Promise<string> {
	if (!target.jump) return presentedHostKey(target.host, target.port, options);
	const hop = await throughJump(target, options);
	try {
		return await presentedHostKey(target.host, target.port, {...options, sock: hop.sock});
	} finally {
		hop.ssh.close();
	}
}

// The host key a server presents, without logging in (what ssh-keyscan does):
// the verifier records the key and refuses it, which ends the handshake.
export async function presentedHostKey(host: string, port: number, options: {timeoutMs: number; signal?: AbortSignal; sock?: Duplex}): Promise<string> {
	options.signal?.throwIfAborted();
	const client = new Client();
	return new Promise<string>((resolve, reject) => {
		let presented: string | undefined;
		const finish = (error?: unknown) => {
			options.signal?.removeEventListener('abort', onAbort);
			client.destroy();
			if (presented && !error) resolve(presented);
			else reject(error ?? new Error(`${host}:${port} presented no host key`));
		};
		const onAbort = () => finish(options.signal!.reason ?? new Error('aborted'));
		options.signal?.addEventListener('abort', onAbort, {once: true});
		client.on('error', error => finish(presented ? undefined : new Error(`${host}:${port}: ${error.message}`)));
		client.on('close', () => finish());
		client.connect({
			host,
			port,
			...(options.sock ? {sock: options.sock} : {}),
			username: 'plasma-tui-keyscan',
			readyTimeout: options.timeoutMs,
			hostVerifier: (key: Buffer) => {
				presented = fingerprintOfBlob(key);
				return false;
			},
		});
	});
}

// Right before a tool that does its own SSH without checking host keys
// (nixos-anywhere): the node still presents the key its session was opened
// with, and its forwarded port is still held by its QEMU.
export async function confirmHostKey(ssh: Pick<NodeSsh, 'target' | 'hostKey' | 'hostKeyTrust'>, options: {qemuPid?: number; timeoutMs: number; signal?: AbortSignal}): Promise<void> {
	const {target} = ssh;
	const presented = await presentedHostKeyOf(target, options);
	options.signal?.throwIfAborted();
	if (presented !== ssh.hostKey) throw new HostKeyMismatchError(target.node, ssh.hostKey, presented, target.pinStorePath, {policy: ssh.hostKeyTrust === 'generated' ? 'generated' : undefined, port: target.port, why: 'checked right before the install'});
	if (options.qemuPid === undefined) return;
	const owner = await portOwnedBy(target.port, options.qemuPid);
	options.signal?.throwIfAborted();
	if (!owner.owned) throw new ProblemError({message: `${target.node}: ${owner.why}: not starting the install`, fix: `find out who answers on 127.0.0.1:${target.port}, then run down and up`});
}
