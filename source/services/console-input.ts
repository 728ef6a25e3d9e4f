import net from 'node:net';

// Keystrokes typed into a node's serial console. QEMU serves the console on a
// unix socket (the plan's node.runtime.consoleSocket); the log file the panes
// read is written by QEMU itself, so this connection only has to send.
// QEMU accepts one client per socket: connect on the first keystroke, keep it.

export type ConsoleInputOptions = {
	// node name -> console socket path
	sockets: Record<string, string>;
	onError?: (node: string, message: string) => void;
};

export class ConsoleInput {
	readonly #connections = new Map<string, net.Socket>();
	#closed = false;

	constructor(private readonly options: ConsoleInputOptions) {}

	send(node: string, data: string): void {
		if (this.#closed || data.length === 0) return;
		const socket = this.#connections.get(node) ?? this.#connect(node);
		socket?.write(data);
	}

	close(): void {
		this.#closed = true;
		for (const socket of this.#connections.values()) socket.destroy();
		this.#connections.clear();
	}

	#connect(node: string): net.Socket | undefined {
		const path = this.options.sockets[node];
		if (!path) {
			this.options.onError?.(node, `no console socket planned for ${node}`);
			return undefined;
		}
		const socket = net.createConnection({path});
		// The guest's echo comes back on this socket too: read and drop it, or
		// QEMU's writes to the socket back up and the guest's serial port stalls.
		socket.on('data', () => undefined);
		socket.on('error', error => {
			this.#connections.delete(node);
			this.options.onError?.(node, `console ${path}: ${error.message}`);
		});
		socket.on('close', () => {
			if (this.#connections.get(node) === socket) this.#connections.delete(node);
		});
		// Typing must never keep the process alive after the TUI exits.
		socket.unref();
		this.#connections.set(node, socket);
		return socket;
	}
}
