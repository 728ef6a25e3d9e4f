import {describeFault, faultMarkers} from '../model/fault.js';
import {printableLine} from '../model/printable.js';
import {recovery} from '../model/node-membership.js';
import {formatProblem, problemOf} from '../model/field-error.js';
import {isOurProcess} from '../services/processes.js';
import {identityOf, readState} from '../services/state.js';
import {describeOperation} from '../model/snapshot.js';
import {sshHostAddress} from '../model/ssh-hosts-plan.js';
import {EXIT, planFor, profileFromOptions} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'status');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	let state;
	try {
		state = await readState(plan.stateFile);
	} catch (error) {
		console.error(`plasma-tui status: ${formatProblem(problemOf(error))}`);
		return EXIT.failed;
	}
	const processes = await Promise.all(
		(state?.processes ?? []).map(async entry => ({...entry, alive: await isOurProcess(entry.pid, identityOf(entry))})),
	);
	// Phases and reasons come from the state file, which holds guest text (install output, remote stderr).
	const nodes = plan.nodes.map(node => {
		const entry = processes.find(p => p.kind === 'qemu' && p.node === node.name);
		const status = state?.nodes[node.name];
		const qemuGone = entry !== undefined && !entry.alive;
		return {node, entry, phase: status?.phase ?? 'pending', reason: status?.reason === undefined ? undefined : printableLine(status.reason), qemuGone};
	});
	const running = processes.some(p => p.alive);
	const cluster = clusterState({running, recorded: Object.values(state?.nodes ?? {}).some(node => node.installed), lifecycle: state?.lifecycle?.cluster});
	const stoppedNodes = new Set(state?.lifecycle?.stoppedNodes ?? []);
	if (values['json']) {
		console.log(JSON.stringify({profile: profile.name, workDir: plan.workDir, cluster, stoppedNodes: [...stoppedNodes], nodes: state?.nodes ?? {}, processes, membership: state?.membership, faults: state?.faults ?? []}, null, 2));
	} else {
		const vde = processes.find(p => p.kind === 'vde');
		console.log(`${profile.name}: ${plan.workDir}`);
		console.log(`cluster  ${cluster}${cluster === 'stopped' ? `: disks and state kept; plasma-tui start --profile ${profile.name} boots it from its disks` : ''}`);
		// A snapshot operation on record: one running now, or one cut short (the next snapshot command settles it).
		if (state?.snapshot) console.log(`snapshot ${printableLine(describeOperation(state.snapshot)).replace('did not finish', 'is on record as in progress')}`);
		console.log(`switch   ${vde ? `${vde.alive ? 'running' : 'dead'} pid ${vde.pid ?? '?'}  ${plan.vde.socket}` : 'not started'}`);
		for (const {node, entry, phase: recordedPhase, reason, qemuGone} of nodes) {
			const recorded = `${recordedPhase}${reason ? `: ${reason}` : ''}`;
			// A node stopped on purpose, or every node of a cluster that is not running (stop, host reboot), is stopped, not failed.
			const stopped = stoppedNodes.has(node.name) || cluster === 'stopped';
			const phase = stopped ? `stopped (was ${recorded})` : qemuGone && recordedPhase !== 'failed' ? 'failed: QEMU is not running' : recorded;
			const markers = faultMarkers(state?.faults ?? [], node.name);
			const where = node.sshHost
				? `ssh ${sshHostAddress(node.sshHost)}  ip ${node.ip}  console ${plan.target.kind === 'ssh-hosts' && plan.target.consoleLog ? plan.target.consoleLog : 'the journal'} over SSH`
				: `pid ${entry?.pid ?? '-'}${entry ? (entry.alive ? ' (alive)' : ' (dead)') : ''}  ssh 127.0.0.1:${node.sshPort}  console ${node.runtime.consoleLog}${entry?.alive ? `  sockets ${entry.sockets.join(' ')}` : ''}`;
			console.log(`${node.name.padEnd(8)} ${phase}${markers.length > 0 ? ` [${markers.join(', ')}]` : ''}  ${where}`);
		}
		if (state?.membership) console.log(`unfinished: ${recovery(state.membership)}`);
		const faults = state?.faults ?? [];
		console.log(faults.length === 0 ? 'faults   none' : `faults   ${faults.map(describeFault).join('; ')}  (undo: plasma-tui fault heal / thaw)`);
	}
	return statusExitCode({
		running,
		dead: processes.filter(p => !p.alive).map(p => p.node ?? p.kind),
		failed: nodes.filter(n => n.phase === 'failed').map(n => n.node.name),
	});
};

// What the cluster is as a whole. stopped: nothing of it runs but a run left its state (plasma-tui stop,
// or a host reboot that took every QEMU and the switch): `start` boots it again from its disks.
export function clusterState(facts: {running: boolean; recorded: boolean; lifecycle?: 'running' | 'stopping' | 'stopped'}): 'running' | 'stopped' | 'stopping' | 'not started' {
	if (facts.running) return facts.lifecycle === 'stopping' ? 'stopping' : 'running';
	return facts.recorded ? 'stopped' : 'not started';
}

// 3: nothing of the cluster runs (stopped, by plasma-tui stop or a host reboot, or never started). 1: something runs, but a node's phase is
// failed or a recorded process (QEMU, the switch) is dead. 0: everything
// recorded runs and no node failed (its phase column says healthy, installed,
// or how far a run still in progress got).
export function statusExitCode(cluster: {running: boolean; dead: string[]; failed: string[]}): number {
	if (!cluster.running) return EXIT.notReady;
	return cluster.dead.length > 0 || cluster.failed.length > 0 ? EXIT.failed : EXIT.ok;
}
