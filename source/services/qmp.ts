import net from 'node:net';

// A minimal QMP client: greeting, capabilities, one command at a time.
export class QmpClient {
	#socket: net.Socket;
	#buffer = '';
	#waiters: Array<(message: Record<string, unknown>) => void> = [];

	private constructor(socket: net.Socket) {
		this.#socket = socket;
		socket.on('data', chunk => {
			this.#buffer += chunk.toString();
			let newline: number;
			while ((newline = this.#buffer.indexOf('\n')) >= 0) {
				const line = this.#buffer.slice(0, newline).trim();
				this.#buffer = this.#buffer.slice(newline + 1);
				if (!line) continue;
				const message = JSON.parse(line) as Record<string, unknown>;
				if ('event' in message) continue;
				this.#waiters.shift()?.(message);
			}
		});
	}

	static async connect(socketPath: string, timeoutMs = 3000): Promise<QmpClient> {
		const socket = await new Promise<net.Socket>((resolve, reject) => {
			const s = net.connect(socketPath, () => resolve(s));
			s.once('error', reject);
			setTimeout(() => reject(new Error(`QMP ${socketPath}: no connection within ${timeoutMs} ms`)), timeoutMs).unref();
		});
		const client = new QmpClient(socket);
		await client.#next(timeoutMs, 'the QMP greeting');
		await client.execute('qmp_capabilities', undefined, timeoutMs);
		return client;
	}

	#next(timeoutMs: number, what: string): Promise<Record<string, unknown>> {
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`QMP: no answer to ${what} within ${timeoutMs} ms`)), timeoutMs);
			this.#waiters.push(message => {
				clearTimeout(timer);
				resolve(message);
			});
			this.#socket.once('close', () => reject(new Error(`QMP: connection closed while waiting for ${what}`)));
		});
	}

	async execute(command: string, args?: Record<string, unknown>, timeoutMs = 3000): Promise<unknown> {
		const answer = this.#next(timeoutMs, command);
		this.#socket.write(`${JSON.stringify(args ? {execute: command, arguments: args} : {execute: command})}\n`);
		const message = await answer;
		if ('error' in message) throw new Error(`QMP ${command}: ${JSON.stringify(message['error'])}`);
		return message['return'];
	}

	close(): void {
		this.#socket.destroy();
	}
}
