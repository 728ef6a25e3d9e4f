import type {NodeSsh} from './ssh.js';

// One SSH session per node, shared by everything an operation does on it (a
// validation's checks, a restore's clock step and checks): a handshake into a
// TCG guest under load costs seconds, an exec channel on an open session
// milliseconds. Callers asking at once share one handshake; a session that
// closed is replaced on the next ask. The pool closes only what it opened.
//
//     const pool = new SshPool(node => waitForSsh(sshTargetFor(plan, node), {timeoutMs}));
//     const ssh = await pool.session(node);   // ... pool.close() when done
export class SshPool<N extends {name: string}> {
	#open = new Map<string, NodeSsh>();
	#opening = new Map<string, Promise<NodeSsh>>();
	#owned = new Set<NodeSsh>();

	constructor(private readonly connect: (node: N) => Promise<NodeSsh>) {}

	// A session someone else opened (up's, after install): used, never closed here.
	adopt(node: string, ssh: NodeSsh): void {
		this.#open.set(node, ssh);
	}

	async session(node: N): Promise<NodeSsh> {
		const open = this.#open.get(node.name);
		if (open && !open.closed) return open;
		let opening = this.#opening.get(node.name);
		if (!opening) {
			opening = this.connect(node).then(ssh => {
				this.#open.set(node.name, ssh);
				this.#owned.add(ssh);
				return ssh;
			});
			this.#opening.set(node.name, opening);
			void opening.catch(() => undefined).finally(() => this.#opening.delete(node.name));
		}
		return opening;
	}

	// The open sessions by node (validateRunning's `sessions`).
	sessions(): Map<string, NodeSsh> {
		return new Map([...this.#open].filter(([, ssh]) => !ssh.closed));
	}

	close(): void {
		for (const ssh of this.#owned) ssh.close();
		this.#owned.clear();
		this.#open.clear();
	}
}
