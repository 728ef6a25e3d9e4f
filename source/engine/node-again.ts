import {plainEventPrinter, type RunEventListener} from '../model/events.js';
import type {Profile} from '../model/profile-schema.js';
import {etcdVariablesFor, withAccel, nodeVars, type Plan} from '../model/plan.js';
import {commandVariables, renderCommand} from '../model/install-plan.js';
import {runningAccel, type StateStore} from '../services/state.js';
import {startOneNode} from './node-power.js';

// Boots one killed or powered-down node of a running cluster again: the
// `start` step of a rehearsal, done as `plasma-tui node start` does it. An
// installed node of a profile with boot.afterInstall: disk boots from its
// disk and keeps its data and identity (etcd restarts as the same member with
// its data). A node that netboots blank is installed again; a scenario may
// give the commands that make it rejoin (`rejoin`) instead of the install's own.

export type NodeAgainOptions = {state: StateStore; rejoin?: string[]; onLine: (line: string) => void; onEvent?: RunEventListener; signal?: AbortSignal};

export function bootsFromDisk(plan: Plan, state: StateStore, name: string): boolean {
	return plan.boot.afterInstall === 'disk' && state.current.nodes[name]?.installed === true;
}

export async function bootNodeAgain(profile: Profile, plan: Plan, name: string, options: NodeAgainOptions): Promise<string> {
	// The accelerator the cluster was started with (its recorded QEMU argv), not a new probe.
	const running = withAccel(plan, runningAccel(options.state.current, 'tcg', name));
	const rejoin = options.rejoin && !bootsFromDisk(running, options.state, name) ? options.rejoin : undefined;
	const withRejoin: Plan = rejoin
		? {
				...running,
				nodes: running.nodes.map(node =>
					node.name === name && node.install.method === 'push'
						? {...node, install: {...node.install, commands: rejoin.map(command => renderCommand(command, commandVariables(nodeVars(node, plan.cluster), node, etcdVariablesFor(plan, node))))}}
						: node,
				),
			}
		: running;
	const print = plainEventPrinter(options.onLine);
	const onEvent: RunEventListener = event => {
		print(event);
		options.onEvent?.(event);
	};
	return startOneNode(profile, withRejoin, name, {state: options.state, signal: options.signal, onEvent, validate: false});
}
