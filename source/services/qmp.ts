import net from 'node:net';
import {ProblemError} from '../model/field-error.js';

// A minimal QMP client: greeting, capabilities negotiation, commands
// correlated by id (a reply that comes after its timeout never answers the
// next command), and asynchronous events.

export type QmpEvent = {event: string; data?: Record<string, unknown>; timestamp?: {seconds: number; microseconds: number}};
type Pending = {resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout};

export class QmpClient {
	#socket: net.Socket;
	#buffer = '';
	#nextId = 1;
	#pending = new Map<string, Pending>();
	#listeners = new Set<(event: QmpEvent) => void>();
	#greeting?: (message: Record<string, unknown>) => void;
	#closed?: Error;

	private constructor(socket: net.Socket) {
		this.#socket = socket;
		socket.on('data', chunk => this.#receive(chunk.toString()));
		socket.on('error', error => this.#fail(new ProblemError({message: `QMP: ${error.message}`})));
		socket.on('close', () => this.#fail(new ProblemError({message: 'QMP: connection closed'})));
	}

	static async connect(socketPath: string, timeoutMs = 3000): Promise<QmpClient> {
		const socket = await new Promise<net.Socket>((resolve, reject) => {
			const s = net.connect(socketPath);
			const timer = setTimeout(() => {
				s.destroy();
				reject(new ProblemError({message: `QMP ${socketPath}: no connection within ${timeoutMs} ms`}));
			}, timeoutMs);
			s.once('connect', () => {
				clearTimeout(timer);
				s.removeAllListeners('error');
				resolve(s);
			});
			s.once('error', error => {
				clearTimeout(timer);
				reject(new ProblemError({message: `QMP ${socketPath}: ${error.message}`}));
			});
		});
		const client = new QmpClient(socket);
		try {
			await new Promise<void>((resolve, reject) => {
				const timer = setTimeout(() => reject(new ProblemError({message: `QMP ${socketPath}: no greeting within ${timeoutMs} ms`})), timeoutMs);
				client.#greeting = message => {
					clearTimeout(timer);
					if ('QMP' in message) resolve();
					else reject(new ProblemError({message: `QMP ${socketPath}: expected a greeting, got ${JSON.stringify(message)}`}));
				};
				socket.once('close', () => {
					clearTimeout(timer);
					reject(new ProblemError({message: `QMP ${socketPath}: closed before the greeting`}));
				});
			});
			await client.execute('qmp_capabilities', undefined, timeoutMs);
		} catch (error) {
			client.close();
			throw error;
		}
		return client;
	}

	#receive(text: string): void {
		this.#buffer += text;
		let newline: number;
		while ((newline = this.#buffer.indexOf('\n')) >= 0) {
			const line = this.#buffer.slice(0, newline).trim();
			this.#buffer = this.#buffer.slice(newline + 1);
			if (!line) continue;
			let message: Record<string, unknown>;
			try {
				message = JSON.parse(line) as Record<string, unknown>;
			} catch {
				continue;
			}
			if (this.#greeting) {
				const greet = this.#greeting;
				this.#greeting = undefined;
				greet(message);
				continue;
			}
			if (typeof message['event'] === 'string') {
				for (const listener of this.#listeners) listener(message as QmpEvent);
				continue;
			}
			const id = typeof message['id'] === 'string' ? message['id'] : undefined;
			const pending = id ? this.#pending.get(id) : undefined;
			if (!id || !pending) continue;
			this.#pending.delete(id);
			clearTimeout(pending.timer);
			if ('error' in message) {
				const error = message['error'] as {class?: string; desc?: string};
				pending.reject(new ProblemError({message: `QMP: ${error.class ?? 'error'}: ${error.desc ?? JSON.stringify(error)}`}));
			} else pending.resolve(message['return']);
		}
	}

	#fail(error: Error): void {
		this.#closed ??= error;
		for (const [id, pending] of this.#pending) {
			clearTimeout(pending.timer);
			pending.reject(new ProblemError({message: `${error.message} while waiting for ${id.split(':')[1]}`}));
		}
		this.#pending.clear();
	}

	execute(command: string, args?: Record<string, unknown>, timeoutMs = 3000): Promise<unknown> {
		if (this.#closed) return Promise.reject(new ProblemError({message: `${this.#closed.message}; cannot run ${command}`}));
		const id = `${this.#nextId++}:${command}`;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new ProblemError({message: `QMP: no answer to ${command} within ${timeoutMs} ms`}));
			}, timeoutMs);
			this.#pending.set(id, {resolve, reject, timer});
			this.#socket.write(`${JSON.stringify(args ? {execute: command, arguments: args, id} : {execute: command, id})}\n`);
		});
	}

	onEvent(listener: (event: QmpEvent) => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	waitForEvent(name: string, timeoutMs: number): Promise<QmpEvent> {
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				off();
				reject(new ProblemError({message: `QMP: no ${name} event within ${timeoutMs} ms`}));
			}, timeoutMs);
			const off = this.onEvent(event => {
				if (event.event !== name) return;
				clearTimeout(timer);
				off();
				resolve(event);
			});
		});
	}

	// An HMP command through QMP (savevm, loadvm, delvm have no synchronous QMP twin). HMP answers
	// errors as text: an "Error: ..." answer is thrown with the command it came from.
	async hmp(commandLine: string, timeoutMs = 3000): Promise<string> {
		const output = String((await this.execute('human-monitor-command', {'command-line': commandLine}, timeoutMs)) ?? '');
		if (/^\s*error\b/i.test(output)) {
			throw new ProblemError({message: `QMP: ${commandLine.split(' ')[0]}: ${output.trim()}`});
		}
		return output;
	}

	// The VM's run state: 'running', 'paused', 'restore-vm', ...
	async runState(timeoutMs = 3000): Promise<string> {
		const status = (await this.execute('query-status', undefined, timeoutMs)) as {status?: string};
		return status.status ?? 'unknown';
	}

	// The internal snapshots of every disk with a medium, by device.
	async internalSnapshots(timeoutMs = 3000): Promise<Array<{device: string; snapshots: Array<{name: string; vmStateBytes: number}>}>> {
		type Block = {device?: string; qdev?: string; inserted?: {image?: {snapshots?: Array<{name: string; 'vm-state-size'?: number}>}}};
		const blocks = (await this.execute('query-block', undefined, timeoutMs)) as Block[];
		return blocks
			.filter(block => block.inserted)
			.map(block => ({
				device: block.device || block.qdev || '?',
				snapshots: (block.inserted?.image?.snapshots ?? []).map(s => ({name: s.name, vmStateBytes: s['vm-state-size'] ?? 0})),
			}));
	}

	close(): void {
		this.#socket.destroy();
	}
}
