import fs from 'node:fs/promises';
import path from 'node:path';
import type {Profile} from '../model/profile-schema.js';
import {withAccel, type NodePlan, type Plan} from '../model/plan.js';
import {nodeWaitReporter, type RunEventListener} from '../model/events.js';
import {ProblemError, problemOf, formatProblem} from '../model/field-error.js';
import {removeRefusal} from '../model/fault.js';
import {memberListCommands} from '../model/node-membership.js';
import type {TimelineEntry} from '../model/timeline.js';
import {writeArtifacts} from '../services/artifacts.js';
import {addMember, listMembers, removeMember} from '../services/etcd-members.js';
import {pushHostsFile} from '../services/install.js';
import {forgetPinnedHostKey, waitForSsh, type NodeSsh} from '../services/ssh.js';
import {runningAccel, StateStore, type MembershipChange} from '../services/state.js';
import {teardown} from '../services/teardown.js';
import {appendTimeline} from '../services/timeline.js';
import {waitFor} from '../services/wait.js';
import {bootCluster} from './boot.js';
import {sshTargetFor} from './up.js';
import {validateRunning} from './validate-running.js';

// Nodes that come and go on a running cluster. Each step is written to the
// state file (`membership.step`) before it starts, so a crash half-way says
// where it stopped; the profile is written back where it came from. For
// control planes etcd's own protocol decides: `member add` before the new
// member starts (it then joins with --initial-cluster-state existing),
// `member remove` before the leaving one stops.

// The cluster before and after the change: the same work directory, two profiles.
export type Membership = {profile: Profile; plan: Plan};

export type MembershipOptions = {
	onEvent: RunEventListener;
	signal?: AbortSignal;
	// Writes the changed profile back where it came from; resolves with where that is.
	saveProfile: (profile: Profile) => Promise<string>;
	// Run the profile's checks at the end (default true).
	validate?: boolean;
};

export type MembershipResult = {exitCode: number; reportOk?: boolean};

const SSH_TIMEOUT_MS = 60_000;
const MEMBER_START_TIMEOUT_MS = 120_000;
const MEMBER_COMMAND_TIMEOUT_MS = 60_000;

function logger(options: Pick<MembershipOptions, 'onEvent'>) {
	return (message: string, level: 'info' | 'warn' | 'error' = 'info', node?: string) => options.onEvent({type: 'log', level, message, node, at: Date.now()});
}

function lifecycle(plan: Plan, node: string, detail: string, data?: TimelineEntry['data']): Promise<void> {
	return appendTimeline(plan.timelineFile, {at: new Date().toISOString(), kind: 'lifecycle', subject: node, node, detail, data});
}

// Sessions to the nodes that answer; the others are said, not fatal (their hosts file stays as it was).
async function connect(plan: Plan, nodes: NodePlan[], options: MembershipOptions): Promise<Map<string, NodeSsh>> {
	const log = logger(options);
	const sessions = new Map<string, NodeSsh>();
	await Promise.all(
		nodes.map(async node => {
			try {
				sessions.set(node.name, await waitForSsh(sshTargetFor(plan, node), {timeoutMs: SSH_TIMEOUT_MS, signal: options.signal, onWait: nodeWaitReporter(options.onEvent, node.name, `ssh on 127.0.0.1:${node.sshPort}`)}));
			} catch (error) {
				if (options.signal?.aborted) throw error;
				log(`not reachable over SSH: ${formatProblem(problemOf(error))}`, 'warn', node.name);
			}
		}),
	);
	return sessions;
}

async function pushHosts(nodes: NodePlan[], sessions: Map<string, NodeSsh>, options: MembershipOptions): Promise<void> {
	const log = logger(options);
	await Promise.all(
		nodes.map(async node => {
			const ssh = sessions.get(node.name);
			if (!ssh) return log('hosts file not updated: not reachable (run "plasma-tui up" once it is, to push it again)', 'warn', node.name);
			await pushHostsFile(ssh, node);
			log('/etc/hosts updated', 'info', node.name);
		}),
	);
}

// The nodes that stay learn the new member list (memberListCommands: the workers' etcd grpc-proxy
// --endpoints), as they learnt the new hosts file. One that does not answer is said, not fatal.
async function pushMemberList(templates: Profile['install']['push']['commands'], before: Plan, after: Plan, sessions: Map<string, NodeSsh>, options: MembershipOptions): Promise<void> {
	const log = logger(options);
	for (const {node, field, command} of memberListCommands(templates, before, after)) {
		options.signal?.throwIfAborted();
		const ssh = sessions.get(node);
		if (!ssh) {
			log(`${field} not run again with the new members: not reachable (run "plasma-tui up --force-install" once it is)`, 'warn', node);
			continue;
		}
		const result = await ssh.exec(command, {timeoutMs: MEMBER_COMMAND_TIMEOUT_MS, signal: options.signal, onLine: line => options.onEvent({type: 'install-output', node, line, at: Date.now()})});
		if (result.code !== 0) throw new ProblemError({message: `${node}: ${field} exited ${result.code ?? result.signal} when run again with the new members: ${result.stderr.trim().split('\n').at(-1) ?? ''}`, fix: `read ${node}'s service log; "plasma-tui up --force-install" runs the install again`});
		log(`${field} run again: it names the members of ${after.nodes.filter(n => n.role === 'control-plane').map(n => n.name).join(', ')}`, 'info', node);
	}
}

// A member that answers, to run etcdctl on (never the one that leaves).
function memberSession(nodes: NodePlan[], sessions: Map<string, NodeSsh>, except: string): {member: NodePlan; ssh: NodeSsh} {
	for (const member of nodes.filter(n => n.role === 'control-plane' && n.name !== except)) {
		const ssh = sessions.get(member.name);
		if (ssh) return {member, ssh};
	}
	throw new ProblemError({message: 'no etcd member answers over SSH to run etcdctl on', fix: 'check the cluster with "plasma-tui status" and "plasma-tui validate"'});
}

function changeRecord(action: MembershipChange['action'], node: NodePlan): (step: string) => MembershipChange {
	const startedAt = new Date().toISOString();
	return step => ({action, node: node.name, role: node.role, step, startedAt, dir: node.dir});
}

async function validateAfter(after: Membership, state: StateStore, sessions: Map<string, NodeSsh>, options: MembershipOptions): Promise<MembershipResult> {
	if (options.validate === false || after.profile.checks.length === 0) return {exitCode: 0};
	const {report} = await validateRunning(after.profile, after.plan, {checks: after.profile.checks, state, sessions, onEvent: options.onEvent, signal: options.signal});
	return {exitCode: report?.ok ? 0 : 1, reportOk: report?.ok ?? false};
}

// `node add`: `after` holds the new node (last), planned with it joining when it is a control plane.
// A step that fails rolls the add back (rollBackAdd); Ctrl-C stops at the next safe point (between
// steps, or while waiting), stops the new node's VM and leaves the record for "node remove --force".
export async function addNode(before: Membership, after: Membership, name: string, options: MembershipOptions): Promise<MembershipResult> {
	const log = logger(options);
	const state = await StateStore.open(after.plan.stateFile, after.profile.name, after.plan.workDir);
	const plan = withAccel(after.plan, runningAccel(state.current, 'tcg'));
	const node = plan.nodes.find(n => n.name === name)!;
	const step = changeRecord('add', node);
	const sessions = new Map<string, NodeSsh>();
	const done = {profile: false, member: false, hosts: false};
	let closeBoot = () => undefined as void;
	const mark = async (what: string) => {
		// A safe point: the step before is finished, the next not begun.
		if (options.signal?.aborted) throw interruption(what, 'before');
		await state.setMembership(step(what));
		log(`node add: ${what}`, 'info', name);
	};
	try {
		try {
			await mark('profile');
			await lifecycle(plan, name, `node add started (${node.role})`, {role: node.role});
			done.profile = true;
			log(`profile written: ${await options.saveProfile(after.profile)}`, 'info', name);

			await mark('certificates');
			const artifacts = await writeArtifacts(plan);
			const issued = artifacts.certificates.filter(c => !c.reused).map(c => c.node);
			log(`certificates: issued for ${issued.join(', ') || 'nobody'}; CA and ${artifacts.certificates.length - issued.length} node certificates reused`, 'info', name);

			await mark('hosts files');
			const existing = plan.nodes.filter(n => before.plan.nodes.some(b => b.name === n.name));
			for (const [key, ssh] of await connect(plan, existing, options)) sessions.set(key, ssh);
			done.hosts = true;
			await pushHosts(existing, sessions, options);

			if (node.role === 'control-plane' && plan.membership === 'etcd') {
				await mark('etcd member add');
				const {member, ssh} = memberSession(plan.nodes, sessions, name);
				done.member = true;
				// Not cut by Ctrl-C half-way: etcd's own retries and timeout bound it.
				const outcome = await addMember(ssh, member, node);
				log(`etcd member add ${name} ${node.etcd.peerUrl} on ${member.name}: ${outcome}`, 'info', name);
				await lifecycle(plan, name, `etcd member add (${outcome}) on ${member.name}`);
			}

			await mark('boot');
			const boot = await bootCluster(after.profile, {...plan, nodes: [node]}, {onEvent: options.onEvent, signal: options.signal, state});
			closeBoot = boot.close;
			const booted = boot.nodes.get(name);
			if (boot.interrupted) throw interruption('boot', 'during');
			if (!booted) throw new ProblemError({message: `${name} did not start: ${state.current.nodes[name]?.reason ?? 'see its QEMU log'}`, fix: `read ${node.runtime.qemuLog}`});
			let installBegun = false;
			const target = sshTargetFor(plan, node, booted.attached ? undefined : {pid: booted.pid, isOpen: () => !installBegun});
			const ssh = await waitForSsh(target, {timeoutMs: after.profile.boot.sshTimeoutSec * 1000, signal: options.signal, wake: {promise: booted.ready}, onWait: nodeWaitReporter(options.onEvent, name, `ssh on 127.0.0.1:${node.sshPort}`)});
			sessions.set(name, ssh);
			await boot.nodePhases.set(name, 'ssh-ready', `host key ${ssh.hostKey} (${ssh.hostKeyTrust})`);

			await mark('install');
			installBegun = true;
			if (plan.stages.includes('install')) {
				await boot.nodePhases.set(name, 'installing');
				const {installNode} = await import('../services/install.js');
				await installNode({plan, node, ssh, state, signal: options.signal, qemuPid: booted.pid, onLine: line => options.onEvent({type: 'install-output', node: name, line, at: Date.now()})});
				await state.markInstalled(name, true);
				if (after.profile.install.method === 'nixos-anywhere') {
					// It rebooted into the installed system: a new session, and only the generated key (as in up).
					ssh.close();
					await boot.nodePhases.set(name, 'installing', 'rebooting into the installed system');
					sessions.set(name, await waitForSsh(sshTargetFor(plan, node), {timeoutMs: after.profile.boot.sshTimeoutSec * 1000, signal: options.signal, onWait: nodeWaitReporter(options.onEvent, name, `ssh after the reboot on 127.0.0.1:${node.sshPort}`)}));
				}
				await boot.nodePhases.set(name, 'installed');
			}

			if (node.role === 'control-plane' && plan.membership === 'etcd') {
				await mark('etcd member start');
				const {member, ssh: memberSsh} = memberSession(plan.nodes, sessions, name);
				const started = async () => ((await listMembers(memberSsh, member, options.signal)).some(m => m.name === name && m.status === 'started') ? true : undefined);
				await waitFor(`${name} to show as a started etcd member on ${member.name}`, started, {timeoutMs: MEMBER_START_TIMEOUT_MS, intervalMs: 2000, signal: options.signal});
				log(`etcd: ${name} started as a member`, 'info', name);
				await mark('member lists');
				// Not cut by Ctrl-C half-way: a proxy stopped and not started again would be worse than either list.
				await pushMemberList(after.profile.install.push.commands, before.plan, plan, sessions, {...options, signal: undefined});
			}
		} catch (error) {
			const at = state.current.membership?.step ?? '?';
			closeBoot();
			if (options.signal?.aborted) {
				await stopInterruptedAdd(plan, node, state, step, at, error, options);
				throw error;
			}
			const undone = await rollBackAdd(before, {profile: after.profile, plan}, node, state, sessions, done, step, error, options);
			if (undone === undefined) throw error;
			const cause = problemOf(error);
			throw new ProblemError({message: `${name} was not added (step "${at}": ${cause.message}); rolled back: ${undone}`, fix: cause.fix});
		}
		await state.setMembership(undefined);
		await lifecycle(plan, name, `node added (${node.role}); ${plan.nodes.length} nodes`, {nodes: plan.nodes.length});
		return await validateAfter({profile: after.profile, plan}, state, sessions, options);
	} finally {
		closeBoot();
		for (const ssh of sessions.values()) ssh.close();
	}
}

function interruption(what: string, when: 'before' | 'during'): ProblemError {
	return new ProblemError({message: `interrupted ${when} step "${what}"`});
}

// Ctrl-C: what the add started (the new node's VM) stops; the rest stays on record, with the step it stopped at.
async function stopInterruptedAdd(plan: Plan, node: NodePlan, state: StateStore, step: (what: string) => MembershipChange, at: string, error: unknown, options: MembershipOptions): Promise<void> {
	const log = logger(options);
	if (!state.current.membership) return;
	const stopped = await teardown(plan, {only: [node.name]}).catch((failure: unknown) => ({stopped: [], notStopped: [problemOf(failure).message]}));
	await state.removeProcess('qemu', node.name);
	await state.setMembership(step(`${at}: interrupted`));
	const vm = stopped.notStopped.length > 0 ? `its VM could not be stopped: ${stopped.notStopped.join('; ')}` : 'its VM is stopped';
	log(`node add interrupted at "${at}": ${vm}; ${formatProblem(problemOf(error))}`, 'warn', node.name);
	await lifecycle(plan, node.name, `node add interrupted at "${at}" (${vm})`).catch(() => undefined);
}

// A failed add is undone, newest first, each undo on record before it runs: the etcd member
// (if it was added), the VM, the hosts files, the profile, the new node's files. An undo that
// fails leaves the record at "rollback: ..." for "node remove NAME --force".
async function rollBackAdd(
	before: Membership,
	after: Membership,
	node: NodePlan,
	state: StateStore,
	sessions: Map<string, NodeSsh>,
	done: {profile: boolean; member: boolean; hosts: boolean},
	step: (what: string) => MembershipChange,
	cause: unknown,
	options: MembershipOptions,
): Promise<string | undefined> {
	const log = logger(options);
	const at = state.current.membership?.step ?? '?';
	const undone: string[] = [];
	log(`node add failed at "${at}": ${formatProblem(problemOf(cause))}; rolling back`, 'error', node.name);
	const undo = async (what: string, run: () => Promise<string>) => {
		await state.setMembership(step(`rollback: ${what}`));
		log(`node add rolled back: ${what}: ${await run()}`, 'info', node.name);
		undone.push(what);
	};
	try {
		if (done.member) {
			await undo('etcd member remove', async () => {
				const {member, ssh} = memberSession(before.plan.nodes, sessions, node.name);
				return `${await removeMember(ssh, member, node)} on ${member.name}`;
			});
		}
		await undo('stop its VM', async () => {
			const stopped = await teardown(after.plan, {only: [node.name]});
			if (stopped.notStopped.length > 0) throw new ProblemError({message: `${node.name} could not be stopped: ${stopped.notStopped.join('; ')}`});
			await state.forgetNode(node.name);
			await forgetPinnedHostKey(after.plan.ssh.knownHosts, node.name);
			return stopped.stopped.join(', ') || 'it was not running';
		});
		if (done.hosts) {
			await undo('hosts files', async () => {
				await writeArtifacts(before.plan);
				await pushHosts(before.plan.nodes, sessions, options);
				return `${before.plan.nodes.length} nodes`;
			});
		}
		if (done.profile) await undo('profile', async () => `written back: ${await options.saveProfile(before.profile)}`);
		await undo('files', async () => (await removeNodeFiles(after.plan, step('files'))).join(', '));
		await state.setMembership(undefined);
		await lifecycle(after.plan, node.name, `node add failed at "${at}" and was rolled back`);
		return undone.join(', ');
	} catch (error) {
		const left = state.current.membership?.step ?? '?';
		log(`node add: ${left} failed: ${formatProblem(problemOf(error))}`, 'error', node.name);
		await lifecycle(after.plan, node.name, `node add failed at "${at}"; its rollback stopped at "${left}"`).catch(() => undefined);
		return undefined;
	}
}

// `node remove`: `before` holds the node, `after` does not; the quorum guard was asked already.
export async function removeNode(before: Membership, after: Membership, name: string, options: MembershipOptions): Promise<MembershipResult> {
	const log = logger(options);
	const {plan} = before;
	const node = plan.nodes.find(n => n.name === name)!;
	const state = await StateStore.open(plan.stateFile, before.profile.name, plan.workDir);
	const inFault = removeRefusal(state.current.faults ?? [], name);
	if (inFault) throw new ProblemError(inFault);
	const step = changeRecord('remove', node);
	const mark = async (what: string) => {
		// A safe point: Ctrl-C stops here, between steps; "node remove NAME" finishes from the record.
		if (options.signal?.aborted) throw interruption(what, 'before');
		await state.setMembership(step(what));
		log(`node remove: ${what}`, 'info', name);
	};
	const sessions = new Map<string, NodeSsh>();
	try {
		await mark('connect');
		await lifecycle(plan, name, `node remove started (${node.role})`, {role: node.role});
		for (const [key, ssh] of await connect(after.plan, after.plan.nodes, options)) sessions.set(key, ssh);

		if (node.role === 'control-plane' && plan.membership === 'etcd') {
			await mark('etcd member remove');
			const {member, ssh} = memberSession(after.plan.nodes, sessions, name);
			// Not cut by Ctrl-C half-way: etcd's own timeout bounds it.
			const outcome = await removeMember(ssh, member, node);
			log(`etcd member remove ${name} on ${member.name}: ${outcome}`, 'info', name);
			await lifecycle(plan, name, `etcd member remove (${outcome}) on ${member.name}`);
		}

		await mark('stop');
		const stopped = await teardown(plan, {only: [name]});
		if (stopped.notStopped.length > 0) throw new ProblemError({message: `${name} could not be stopped: ${stopped.notStopped.join('; ')}`, fix: 'stop it as the user that started it, then run node remove again'});
		log(`stopped: ${stopped.stopped.join(', ') || 'it was not running'}`, 'info', name);
		await state.forgetNode(name);
		// What is left on record of it (killed, powered down) went with it.
		await state.setFault(f => f.kind !== 'partition' && f.node === name);
		if (await forgetPinnedHostKey(plan.ssh.knownHosts, name)) log(`its pinned host key was removed from ${plan.ssh.knownHosts}`, 'info', name);

		await mark('hosts files');
		await writeArtifacts(after.plan);
		await pushHosts(after.plan.nodes, sessions, options);
		if (node.role === 'control-plane') {
			await mark('member lists');
			await pushMemberList(after.profile.install.push.commands, plan, after.plan, sessions, {...options, signal: undefined});
		}

		await mark('profile');
		log(`profile written: ${await options.saveProfile(after.profile)}`, 'info', name);

		await finishRemove(after.plan, state, state.current.membership!, options);
		return await validateAfter(after, state, sessions, options);
	} catch (error) {
		const at = state.current.membership?.step;
		if (options.signal?.aborted && at !== undefined && state.current.membership?.action === 'remove') await state.setMembership(step(`${at}: interrupted`));
		await lifecycle(plan, name, `node remove stopped at "${at ?? '?'}": ${formatProblem(problemOf(error))}`).catch(() => undefined);
		throw error;
	} finally {
		for (const ssh of sessions.values()) ssh.close();
	}
}

// The last step of a remove, also what finishes one that crashed after the profile was written:
// the node's files (certificates, host key, disk, logs) and its run directory go.
export async function finishRemove(plan: Plan, state: StateStore, change: MembershipChange, options: Pick<MembershipOptions, 'onEvent'>): Promise<void> {
	const log = logger(options);
	await state.setMembership({...change, step: 'files'});
	for (const dir of await removeNodeFiles(plan, change)) log(`removed ${dir}`, 'info', change.node);
	await state.setMembership(undefined);
	await lifecycle(plan, change.node, `node removed (${change.role}); ${plan.nodes.length} nodes`, {nodes: plan.nodes.length});
}

// A node's directory (certificates, host key, disk, logs) and its run directory; resolves with what went.
async function removeNodeFiles(plan: Plan, change: Pick<MembershipChange, 'node' | 'dir'>): Promise<string[]> {
	const nodesDir = path.join(plan.workDir, 'nodes');
	const runDir = path.join(plan.workDir, 'run', change.node);
	for (const dir of [change.dir, runDir]) {
		// Only a directory of one node of this work directory, never anything above it.
		const parent = path.dirname(dir);
		if ((parent !== nodesDir && parent !== path.join(plan.workDir, 'run')) || path.basename(dir) !== change.node) throw new ProblemError({message: `${dir} is not a node directory of ${plan.workDir}; it was left in place`});
		await fs.rm(dir, {recursive: true, force: true});
	}
	return [change.dir, runDir];
}
