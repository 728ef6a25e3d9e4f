import {createInterface} from 'node:readline/promises';
import {plainEventPrinter} from '../model/events.js';
import {formatProblem, formatProblems, problemOf} from '../model/field-error.js';
import {removeRefusal} from '../model/fault.js';
import {addControlPlaneDecision, isProblem, membersDown, recovery, removeDecision, withAddedNode, withRemovedNode} from '../model/node-membership.js';
import {parseProfile} from '../model/parse-profile.js';
import {buildPlan, type Plan} from '../model/plan.js';
import type {NodeRole, Profile} from '../model/profile-schema.js';
import {assertWritable, profileSourceOf, writeProfileBack, type ProfileSource} from '../services/profiles.js';
import {liveEntries, readState, type MembershipChange, type RunState} from '../services/state.js';
import {EXIT, planContext, vmProfileFromOptions, profileStore, underWorkLock} from './common.js';
import {abortOnSignals} from './interrupt.js';
import type {CommandOptions, CommandRun} from './registry.js';

// `plasma-tui node add [--role worker|control-plane]` and `node remove NAME`:
// the profile changes where it came from, the running cluster follows
// (engine/node-membership.ts). Both hold the work directory's lock.

const ROLES: NodeRole[] = ['worker', 'control-plane'];

export const run: CommandRun = async ({values, positionals}) => {
	const [action, name] = positionals as ['add' | 'remove', string | undefined];
	const command = `node ${action}`;
	const fail = (message: string, fix?: string, code: number = EXIT.badInput) => {
		console.error(`plasma-tui ${command}: ${formatProblem({message, fix})}`);
		return code;
	};
	if (action === 'remove' && !name) return fail('which node?', 'plasma-tui node remove NAME');
	if (action === 'add' && name) return fail(`node add takes no name (got "${name}"): the next one is named as the wizard names them`, 'plasma-tui node add [--role worker|control-plane]');
	const role = (values['role'] ?? 'worker') as NodeRole;
	if (!ROLES.includes(role)) return fail(`--role "${String(values['role'])}" is no role`, 'use --role worker or --role control-plane');

	const profile = await vmProfileFromOptions(values, command);
	if (!profile) return EXIT.badInput;
	const source = profileSourceOf({name: typeof values['profile'] === 'string' ? values['profile'] : undefined, file: typeof values['profile-file'] === 'string' ? values['profile-file'] : undefined, store: profileStore()});
	try {
		assertWritable(source, command);
	} catch (error) {
		console.error(`plasma-tui ${command}: ${formatProblem(problemOf(error))}`);
		return EXIT.badInput;
	}
	const plan = buildPlan(profile, planContext());
	return underWorkLock(plan, command, async () => {
		// Ctrl-C stops the change at its next safe point; the state file says where (status names it).
		const controller = new AbortController();
		const releaseSignals = abortOnSignals(controller);
		try {
			return action === 'add' ? await add(profile, plan, role, source, values, controller.signal) : await remove(profile, plan, name!, source, values, controller.signal);
		} catch (error) {
			console.error(`plasma-tui ${command}: ${formatProblem(problemOf(error))}`);
			const state = await readState(plan.stateFile).catch(() => undefined);
			if (state?.membership) console.error(recovery(state.membership));
			return EXIT.failed;
		} finally {
			releaseSignals();
		}
	});
};

async function clusterNow(plan: Plan): Promise<{state: RunState | undefined; live: Set<string>}> {
	const state = await readState(plan.stateFile);
	const live = new Set((await liveEntries(state)).filter(e => e.kind === 'qemu' && e.node).map(e => e.node!));
	return {state, live};
}

function afterPlan(profile: Profile, joining: string[]): {profile: Profile; plan: Plan} | {problems: string} {
	const parsed = parseProfile(profile);
	if (!parsed.ok) return {problems: formatProblems(parsed.errors)};
	const plan = buildPlan(parsed.profile, {...planContext(), joining});
	if (plan.problems.length > 0) return {problems: formatProblems(plan.problems)};
	return {profile: parsed.profile, plan};
}

async function add(profile: Profile, plan: Plan, role: NodeRole, source: ProfileSource, values: CommandOptions, signal: AbortSignal): Promise<number> {
	const {state, live} = await clusterNow(plan);
	if (state?.membership) return unfinished(state.membership, 'node add');
	if (live.size === 0) return notRunning(profile, source, 'node add');
	const edited = withAddedNode(profile, role);
	if (isProblem(edited)) return problem('node add', formatProblem(edited));
	const after = afterPlan(edited.profile, role === 'control-plane' ? [edited.node] : []);
	if ('problems' in after) return problem('node add', `the profile with ${edited.node} would have problems:\n${after.problems}`);
	const node = after.plan.nodes.find(n => n.name === edited.node)!;
	console.log(`node add: ${node.name} (${role}) ip ${node.ip}, mac ${node.mac}, ssh 127.0.0.1:${node.sshPort}`);
	if (role === 'control-plane') {
		const decision = addControlPlaneDecision({controlPlane: plan.nodes.filter(n => n.role === 'control-plane').map(n => n.name), down: membersDown(plan, state, live), name: node.name, force: values['force'] === true});
		console.log(decision.verdict.message);
		if (decision.refused) return problem('node add', 'refused: etcd cannot take a member while the cluster has no quorum', 'bring the members back first, or add --force to try anyway', EXIT.failed);
	}
	if (!(await confirm(`Add ${node.name} to "${profile.name}"?`, values))) return EXIT.badInput;
	const {addNode} = await import('../engine/node-membership.js');
	const result = await addNode({profile, plan}, after, node.name, {onEvent: printer(), signal, saveProfile: changed => writeProfileBack(source, changed)});
	console.log(result.exitCode === 0 ? `node add: ${node.name} joined "${profile.name}"` : `node add: ${node.name} joined, but checks failed: see ${after.plan.report.text}`);
	return result.exitCode;
}

async function remove(profile: Profile, plan: Plan, name: string, source: ProfileSource, values: CommandOptions, signal: AbortSignal): Promise<number> {
	const {state, live} = await clusterNow(plan);
	const pending = state?.membership;
	if (pending && pending.node !== name) return unfinished(pending, `node remove ${name}`);
	const inProfile = plan.nodes.some(n => n.name === name);
	const {finishRemove, removeNode} = await import('../engine/node-membership.js');
	if (pending?.action === 'remove' && !inProfile) {
		// It crashed after the profile was written: only its files are left.
		const {StateStore} = await import('../services/state.js');
		const store = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
		await finishRemove(plan, store, pending, {onEvent: printer()});
		console.log(`node remove: finished removing ${name}`);
		return EXIT.ok;
	}
	if (pending?.action === 'add' && !inProfile) {
		// It crashed before the profile was written: nothing else had changed yet.
		const {StateStore} = await import('../services/state.js');
		await (await StateStore.open(plan.stateFile, profile.name, plan.workDir)).setMembership(undefined);
		console.log(`node remove: ${name} never reached the profile; the unfinished add is cleared`);
		return EXIT.ok;
	}
	const inFault = removeRefusal(state?.faults ?? [], name);
	if (inFault) return problem(`node remove ${name}`, inFault.message, inFault.fix);
	const edited = withRemovedNode(profile, name);
	if (isProblem(edited)) return problem(`node remove ${name}`, formatProblem(edited));
	const after = afterPlan(edited, []);
	if ('problems' in after) return problem(`node remove ${name}`, `the profile without ${name} would have problems:\n${after.problems}`);
	const node = plan.nodes.find(n => n.name === name)!;
	if (node.role === 'control-plane') {
		const decision = removeDecision({controlPlane: plan.nodes.filter(n => n.role === 'control-plane').map(n => n.name), down: membersDown(plan, state, live), name, force: values['force'] === true});
		console.log(decision.verdict.message);
		if (decision.refused) return problem(`node remove ${name}`, `refused: ${decision.verdict.message}`, 'bring the stopped members back first, or add --force to remove it anyway', EXIT.failed);
	}
	if (!(await confirm(`Remove ${name} from "${profile.name}" (its VM stops; its disk and certificates are deleted)?`, values))) return EXIT.badInput;
	const result = await removeNode({profile, plan}, after, name, {onEvent: printer(), signal, saveProfile: changed => writeProfileBack(source, changed)});
	console.log(result.exitCode === 0 ? `node remove: ${name} left "${profile.name}"` : `node remove: ${name} left, but checks failed: see ${after.plan.report.text}`);
	return result.exitCode;
}

function printer() {
	return plainEventPrinter(line => console.log(line), {skip: event => event.type === 'check' && event.status === 'waiting'});
}

function problem(command: string, message: string, fix?: string, code: number = EXIT.badInput): number {
	console.error(`plasma-tui ${command}: ${formatProblem({message, fix})}`);
	return code;
}

function unfinished(change: MembershipChange, command: string): number {
	return problem(command, `an earlier ${recovery(change)}`, undefined, EXIT.failed);
}

function notRunning(profile: Profile, source: ProfileSource, command: string): number {
	const which = source.kind === 'file' ? `--profile-file ${source.file}` : `--profile ${source.name}`;
	return problem(command, `nothing of "${profile.name}" runs`, `bring it up first: plasma-tui up ${which}`, EXIT.notReady);
}

// On a terminal asks; headless needs --yes.
async function confirm(question: string, values: CommandOptions): Promise<boolean> {
	if (values['yes'] === true) return true;
	if (process.stdin.isTTY && process.stdout.isTTY) {
		const prompt = createInterface({input: process.stdin, output: process.stdout});
		try {
			if (/^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim())) return true;
		} finally {
			prompt.close();
		}
		console.log('nothing was changed');
		return false;
	}
	console.error(`plasma-tui node: ${formatProblem({message: 'changes a running cluster and needs a confirmation; nothing was changed', fix: 'add --yes'})}`);
	return false;
}
