import type {RunEventListener} from '../model/events.js';
import {nextPhase, type NodePhase} from '../model/node-phase.js';
import type {StateStore} from '../services/state.js';

// Every node's phase during a run: a step nextPhase allows is emitted as a
// node-phase event and written to the state file; any other is dropped.
export class NodePhases {
	readonly current: Record<string, NodePhase>;

	constructor(
		nodes: readonly string[],
		private readonly emit: RunEventListener,
		private readonly state: Pick<StateStore, 'setNode'>,
		// Where each node stands when this run picks it up (a later `validate`: the state file's phases).
		initial: Partial<Record<string, NodePhase>> = {},
	) {
		this.current = Object.fromEntries(nodes.map(name => [name, initial[name] ?? ('pending' as NodePhase)]));
	}

	of(node: string): NodePhase {
		return this.current[node] ?? 'pending';
	}

	// Resolves with whether the step was taken.
	async set(node: string, phase: NodePhase, reason?: string): Promise<boolean> {
		const step = nextPhase(this.of(node), phase);
		if (!step.ok) return false;
		const from = this.of(node);
		this.current[node] = step.phase;
		this.emit({type: 'node-phase', node, phase: step.phase, from, reason, at: Date.now()});
		await this.state.setNode(node, step.phase, reason);
		return true;
	}
}
