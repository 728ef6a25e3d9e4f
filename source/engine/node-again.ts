import type {Profile} from '../model/profile-schema.js';
import {etcdVariablesFor, withAccel, nodeVars, type Plan} from '../model/plan.js';
import {commandVariables, renderCommand} from '../model/install-plan.js';
import {startNodeLink} from '../services/node-link.js';
import {startNode} from '../services/qemu.js';
import {waitForSsh, type NodeSsh} from '../services/ssh.js';
import {runningAccel, type StateStore} from '../services/state.js';
import {forgetNodeLoss} from './faults.js';
import {sshTargetFor} from './up.js';

// Boots one killed or powered-down node of a running cluster again and
// installs it (push), so it rejoins: the `start` step of a rehearsal. The
// demo guest keeps etcd's data in RAM, so a scenario may give the commands
// that make it rejoin (`rejoin`) instead of the install's own.

export async function bootNodeAgain(profile: Profile, plan: Plan, name: string, options: {state: StateStore; rejoin?: string[]; onLine: (line: string) => void; signal?: AbortSignal}): Promise<NodeSsh> {
	// The accelerator the cluster was started with (its recorded QEMU argv), not a new probe.
	const running = withAccel(plan, runningAccel(options.state.current, 'tcg', name));
	const planned = running.nodes.find(n => n.name === name);
	if (!planned) throw new Error(`unknown node "${name}"`);
	const node = options.rejoin && planned.install.method === 'push'
		? {...planned, install: {...planned.install, commands: options.rejoin.map(command => renderCommand(command, commandVariables(nodeVars(planned, plan.cluster), planned, etcdVariablesFor(plan, planned))))}}
		: planned;
	await startNodeLink(node, running, options.state, options.signal);
	const proc = await startNode(node, running, options.state, options.signal);
	options.onLine(`${name}: QEMU ${proc.attached ? 'already running' : 'started'} (pid ${proc.pid})`);
	await options.state.setNode(name, 'booting', 'booted again by a rehearsal');
	const ssh = await waitForSsh(sshTargetFor(running, node), {timeoutMs: profile.boot.sshTimeoutSec * 1000, signal: options.signal});
	options.onLine(`${name}: answers on SSH`);
	const {installNode} = await import('../services/install.js');
	await installNode({plan: running, node, ssh, state: options.state, signal: options.signal, qemuPid: proc.pid, onLine: line => options.onLine(`${name}: ${line}`)});
	await options.state.setNode(name, 'installed');
	await forgetNodeLoss(plan, options.state, name);
	return ssh;
}
