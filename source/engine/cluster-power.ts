import type {NodePlan, Plan} from '../model/plan.js';
import {assertVmTarget} from '../model/ssh-hosts-rules.js';
import type {RunEventListener} from '../model/events.js';
import type {TimelineEntry} from '../model/timeline.js';
import {stopNode} from '../services/qemu.js';
import {stopNodeLink} from '../services/node-link.js';
import {StateStore} from '../services/state.js';
import {appendTimeline} from '../services/timeline.js';
import {stopSwitch} from '../services/vde.js';

// Stopping a whole cluster and marking it started again. A stop powers every node
// down (ACPI power button through QMP, then quit, then signals), workers before
// control planes, then the switch; disks, certificates and the state file stay.
// Starting is `up` on a stopped cluster (engine/up.ts): installed nodes boot from
// their disks, control planes first, installs are skipped, checks run.

// A clean power-off takes a few seconds under TCG (services stop, the disk is unmounted).
export const POWERDOWN_GRACE_MS = 30_000;

export type StopClusterResult = {stopped: string[]; notStopped: string[]; ms: number};

export function lifecycleEntry(subject: string, to: string, detail: string, node?: string): TimelineEntry {
	return {at: new Date().toISOString(), kind: 'lifecycle', subject, node, to, detail};
}

// Nodes in the order a stop takes them: workers first, then the control planes together.
export function stopOrder<T extends {role: string}>(nodes: readonly T[]): T[][] {
	return [nodes.filter(node => node.role === 'worker'), nodes.filter(node => node.role !== 'worker')].filter(group => group.length > 0);
}

// A node's own switch and wirefilter (network.impairment), after its QEMU: left running they stay
// plugged into the cluster switch's old socket, and the next start would reuse them.
export async function stopLinkOf(node: NodePlan, state: StateStore): Promise<{stopped: string[]; notStopped: string[]}> {
	const outcomes = await stopNodeLink(node);
	for (const {kind} of outcomes.filter(o => !o.outcome.startsWith('not stopped'))) await state.removeProcess(kind, node.name);
	return {
		stopped: outcomes.filter(o => o.outcome !== 'gone' && !o.outcome.startsWith('not stopped')).map(o => `${o.what} (${o.outcome})`),
		notStopped: outcomes.filter(o => o.outcome.startsWith('not stopped')).map(o => `${o.what}: ${o.outcome}`),
	};
}

export async function stopCluster(profileName: string, plan: Plan, options: {onEvent: RunEventListener; graceMs?: number}): Promise<StopClusterResult> {
	assertVmTarget(plan.target, profileName, 'stop');
	const started = Date.now();
	const log = (message: string, level: 'info' | 'warn' | 'error' = 'info', node?: string) => options.onEvent({type: 'log', level, message, node, at: Date.now()});
	const state = await StateStore.open(plan.stateFile, profileName, plan.workDir);
	// On record before anything stops: an interrupted stop is still a stop, never a failure.
	await state.setLifecycle('stopping', () => plan.nodes.map(node => node.name));
	await appendTimeline(plan.timelineFile, lifecycleEntry('cluster', 'stopping', `plasma-tui stop: ${plan.nodes.length} nodes`));
	const stopped: string[] = [];
	const notStopped: string[] = [];
	for (const group of stopOrder(plan.nodes)) {
		await Promise.all(
			group.map(async node => {
				const pid = state.current.processes.find(p => p.kind === 'qemu' && p.node === node.name)?.pid;
				log('powering down (ACPI power button)', 'info', node.name);
				const outcome = await stopNode(node, plan, {pid, graceMs: options.graceMs ?? POWERDOWN_GRACE_MS});
				if (outcome.startsWith('not stopped')) {
					notStopped.push(`${node.name}: ${outcome}`);
					log(outcome, 'error', node.name);
					return;
				}
				if (outcome !== 'gone') stopped.push(`${node.name} (${outcome})`);
				log(outcome === 'gone' ? 'was not running' : `stopped (${outcome})`, 'info', node.name);
				await state.removeProcess('qemu', node.name);
				const link = await stopLinkOf(node, state);
				stopped.push(...link.stopped);
				notStopped.push(...link.notStopped);
				for (const line of link.notStopped) log(line, 'error', node.name);
				await state.setNode(node.name, 'pending', 'stopped by plasma-tui stop');
				await appendTimeline(plan.timelineFile, lifecycleEntry(node.name, 'stopped', `${outcome}`, node.name));
			}),
		);
	}
	if (notStopped.length === 0) {
		const outcome = await stopSwitch(plan);
		if (outcome.startsWith('not stopped')) notStopped.push(`vde_switch: ${outcome}`);
		else {
			if (outcome !== 'gone') stopped.push(`vde_switch (${outcome})`);
			await state.removeProcess('vde', undefined);
		}
	}
	const ms = Date.now() - started;
	if (notStopped.length === 0) {
		await state.setLifecycle('stopped', current => current);
		await appendTimeline(plan.timelineFile, lifecycleEntry('cluster', 'stopped', `${stopped.length} processes stopped in ${(ms / 1000).toFixed(1)} s; disks kept`));
	}
	return {stopped, notStopped, ms};
}

// Called by every run that boots the cluster (up, start): a stopped cluster is running again from here on.
export async function markStarting(state: StateStore, plan: Plan): Promise<string | undefined> {
	const before = state.current.lifecycle;
	const nothingRuns = state.current.processes.length === 0 && Object.values(state.current.nodes).some(node => node.installed);
	const stoppedOnPurpose = before !== undefined && (before.cluster !== 'running' || before.stoppedNodes.length > 0);
	if (!stoppedOnPurpose && !nothingRuns) return undefined;
	await state.setLifecycle('running', () => []);
	const why = before?.cluster === 'stopped' || before?.cluster === 'stopping' ? 'stopped by plasma-tui stop' : before?.stoppedNodes.length ? `nodes stopped: ${before.stoppedNodes.join(', ')}` : 'nothing was running (host reboot?)';
	await appendTimeline(plan.timelineFile, lifecycleEntry('cluster', 'starting', `from ${why}`));
	return why;
}
