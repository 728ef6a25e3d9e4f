import type {Profile} from '../model/profile-schema.js';
import {assertVmTarget} from '../model/ssh-hosts-rules.js';
import {withAccel, type NodePlan, type Plan} from '../model/plan.js';
import {nodeWaitReporter, type RunEventListener} from '../model/events.js';
import {problemOf, ProblemError} from '../model/field-error.js';
import {isFrozen} from '../model/fault.js';
import type {QuorumVerdict} from '../model/quorum.js';
import {membersDown, type MembersState} from '../model/node-membership.js';
import {nodePowerDecision, type NodePowerAction} from '../model/node-power.js';
import {nodePid, runningNodes, startNode, stopNode} from '../services/qemu.js';
import {waitForSsh, type NodeSsh} from '../services/ssh.js';
import {isClusterCheck, runsOn} from '../services/checks/registry.js';
import {runningAccel, StateStore} from '../services/state.js';
import {appendTimeline} from '../services/timeline.js';
import {qmpAction} from '../services/node-faults.js';
import {startNodeLink} from '../services/node-link.js';
import {startSwitch} from '../services/vde.js';
import {lifecycleEntry, POWERDOWN_GRACE_MS, stopLinkOf} from './cluster-power.js';
import {forgetQemuFaults} from './faults.js';
import {NodePhases} from './node-phases.js';
import {sshTargetFor} from './up.js';
import {validateCluster} from './validation.js';

// One node of a running cluster: stop, start, restart. Both front ends ask the
// quorum guard first (what the stop costs the Raft members), then call these.

export type {NodePowerAction} from '../model/node-power.js';

export function findNode(plan: Plan, name: string): NodePlan {
	const node = plan.nodes.find(candidate => candidate.name === name);
	if (!node) throw new ProblemError({field: 'NAME', message: `no node "${name}" in "${plan.profileName}"`, fix: `one of: ${plan.nodes.map(n => n.name).join(', ')}`});
	return node;
}

// What stopping (or restarting) the node costs the control-plane members, given who is already down.
export async function nodePowerVerdict(plan: Plan, name: string, action: NodePowerAction, state?: MembersState): Promise<QuorumVerdict> {
	const members = plan.nodes.filter(node => node.role === 'control-plane').map(node => node.name);
	return nodePowerDecision(members, name, action, membersDown(plan, state, await runningNodes(plan)));
}

// validate: run the started node's checks (default true), as `start` of the cluster does.
// state: the caller's open store (a rehearsal's), so both see the same record.
type PowerOptions = {onEvent: RunEventListener; signal?: AbortSignal; validate?: boolean; state?: StateStore};

export async function stopOneNode(profile: Profile, plan: Plan, name: string, options: PowerOptions): Promise<string> {
	assertVmTarget(plan.target, profile.name, 'node stop');
	const node = findNode(plan, name);
	const state = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
	// On record first: a node stopped on purpose is "stopped", not "failed", whatever happens next.
	await state.setLifecycle(state.current.lifecycle?.cluster === 'stopped' ? 'stopped' : 'running', current => [...current, name]);
	await appendTimeline(plan.timelineFile, lifecycleEntry(name, 'stopping', 'plasma-tui node stop', name));
	options.onEvent({type: 'log', level: 'info', message: 'powering down (ACPI power button)', node: name, at: Date.now()});
	const pid = state.current.processes.find(p => p.kind === 'qemu' && p.node === name)?.pid;
	if (isFrozen(state.current.faults ?? [], name) && (await nodePid(node, plan))) {
		options.onEvent({type: 'log', level: 'info', message: 'frozen: thawed first (QMP cont) so it sees the power button', node: name, at: Date.now()});
		await qmpAction(node, 'cont').catch(() => undefined);
	}
	const outcome = await stopNode(node, plan, {pid, graceMs: POWERDOWN_GRACE_MS}).catch((error: unknown) => `not stopped: ${problemOf(error).message}` as const);
	if (outcome.startsWith('not stopped')) {
		// It still runs: not stopped on purpose after all.
		await state.setLifecycle(state.current.lifecycle?.cluster ?? 'running', current => current.filter(n => n !== name));
		await appendTimeline(plan.timelineFile, lifecycleEntry(name, 'running', `stop failed: ${outcome}`, name));
		throw new ProblemError({message: `${name}: ${outcome}`, fix: `plasma-tui down --profile ${profile.name} stops it by force`});
	}
	await state.removeProcess('qemu', name);
	await forgetQemuFaults(plan, state, name, 'stopped by plasma-tui node stop');
	const link = await stopLinkOf(node, state);
	if (link.notStopped.length > 0) throw new ProblemError({message: `${name}: ${link.notStopped.join('; ')}`, fix: `plasma-tui down --profile ${profile.name} stops it by force`});
	await state.setNode(name, 'pending', 'stopped by plasma-tui node stop');
	options.onEvent({type: 'node-phase', node: name, phase: 'pending', reason: `stopped (${outcome})`, at: Date.now()});
	await appendTimeline(plan.timelineFile, lifecycleEntry(name, 'stopped', outcome, name));
	return outcome === 'gone' ? 'was not running' : `stopped (${outcome})`;
}

export async function startOneNode(profile: Profile, plan: Plan, name: string, options: PowerOptions): Promise<string> {
	assertVmTarget(plan.target, profile.name, 'node start');
	const node = findNode(plan, name);
	const state = options.state ?? (await StateStore.open(plan.stateFile, profile.name, plan.workDir));
	if (await nodePid(node, plan)) return 'already running';
	await state.setLifecycle(state.current.lifecycle?.cluster === 'stopped' ? 'stopped' : 'running', current => current.filter(n => n !== name));
	await appendTimeline(plan.timelineFile, lifecycleEntry(name, 'starting', 'plasma-tui node start', name));
	const phases = new NodePhases([name], options.onEvent, state);
	try {
		return await bootNode(profile, plan, node, state, phases, options);
	} catch (error) {
		// Whatever it reached (booting, ssh-ready, installing), it is failed now, and says why; `down` stops its QEMU.
		const reason = `start failed: ${problemOf(error).message}`;
		await phases.set(name, 'failed', reason);
		await appendTimeline(plan.timelineFile, lifecycleEntry(name, 'failed', reason, name));
		throw error;
	}
}

async function bootNode(profile: Profile, plan: Plan, node: NodePlan, state: StateStore, phases: NodePhases, options: PowerOptions): Promise<string> {
	const name = node.name;
	const installed = state.current.nodes[name]?.installed === true;
	const fromDisk = installed && plan.boot.afterInstall === 'disk';
	await startSwitch(plan, state, options.signal);
	await startNodeLink(node, plan, state, options.signal);
	await phases.set(name, 'booting', fromDisk ? 'from its installed disk' : 'netboot');
	const started = Date.now();
	const proc = await startNode(node, plan, state, options.signal, undefined, fromDisk);
	await forgetQemuFaults(plan, state, name, 'started again by plasma-tui node start');
	const gone = new AbortController();
	void proc.exited.then(() => gone.abort(new Error(`${name}'s QEMU exited`)));
	const signal = options.signal ? AbortSignal.any([options.signal, gone.signal]) : gone.signal;
	const target = sshTargetFor(plan, node, fromDisk ? undefined : {pid: proc.pid, isOpen: () => true});
	const ssh = await waitForSsh(target, {timeoutMs: profile.boot.sshTimeoutSec * 1000, signal, onWait: nodeWaitReporter(options.onEvent, name, `ssh on ${target.host}:${target.port}`)});
	try {
		await phases.set(name, 'ssh-ready', `${Math.round((Date.now() - started) / 1000)} s`);
		if (fromDisk || plan.install.method === 'none') {
			await phases.set(name, 'installed', fromDisk ? 'booted from its disk: install skipped' : undefined);
		} else {
			// A blank netboot (boot.afterInstall: netboot) is installed again.
			await phases.set(name, 'installing');
			const {installNode} = await import('../services/install.js');
			await installNode({plan, node, ssh, state, signal, qemuPid: proc.pid, onLine: line => options.onEvent({type: 'install-output', node: name, line, at: Date.now()})});
			await state.markInstalled(name, true);
			await phases.set(name, 'installed');
		}
		const sshAfter = Math.round((Date.now() - started) / 1000);
		await appendTimeline(plan.timelineFile, lifecycleEntry(name, 'started', `ssh after ${sshAfter} s`, name));
		const checked = options.validate === false ? undefined : await validateStartedNode(profile, plan, node, ssh, phases, {...options, signal});
		return `started (pid ${proc.pid}), ssh answers after ${sshAfter} s${checked ? `; ${checked}` : ''}`;
	} finally {
		ssh.close();
	}
}

// As `start` of the whole cluster ends, a started node ends validated: its own node checks
// run on it (cluster checks need the others and belong to `validate`), and it is healthy or
// failed with the checks that failed. The last report is left alone.
async function validateStartedNode(profile: Profile, plan: Plan, node: NodePlan, ssh: NodeSsh, phases: NodePhases, options: PowerOptions): Promise<string> {
	const checks = profile.checks.filter(spec => !isClusterCheck(spec) && runsOn(spec, node));
	await phases.set(node.name, 'validating', `${checks.length} node checks`);
	const others = Object.fromEntries(plan.nodes.filter(n => n.name !== node.name).map(n => [n.name, `not part of node start ${node.name}`]));
	const report = await validateCluster(profile, plan, {connections: new Map([[node.name, ssh]]), checks, onEvent: options.onEvent, signal: options.signal, notRun: others, writeReport: false});
	const failures = report.results.filter(r => r.node === node.name && r.status !== 'ok');
	if (failures.length > 0) {
		const why = failures.map(r => `${r.check}: ${r.reason ?? r.status}`).join('; ');
		await phases.set(node.name, 'failed', why);
		throw new ProblemError({message: `${node.name} started, but its checks failed: ${why}`, fix: `plasma-tui validate --profile ${profile.name} shows the whole cluster`});
	}
	await phases.set(node.name, 'healthy');
	return `${checks.length} node checks ok`;
}

// The plan with the accelerator the cluster runs with (preflight may have chosen KVM for `auto`), read
// before a restart's stop takes the node's own record away.
export async function runningPlan(profile: Profile, plan: Plan): Promise<Plan> {
	const state = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
	return withAccel(plan, runningAccel(state.current, plan.accel));
}

export async function powerNode(profile: Profile, cold: Plan, name: string, action: NodePowerAction, options: PowerOptions): Promise<string> {
	assertVmTarget(cold.target, profile.name, `node ${action}`);
	const plan = await runningPlan(profile, cold);
	if (action === 'stop') return stopOneNode(profile, plan, name, options);
	if (action === 'start') return startOneNode(profile, plan, name, options);
	const stopped = await stopOneNode(profile, plan, name, options);
	return `${stopped}; ${await startOneNode(profile, plan, name, options)}`;
}
