import fs from 'node:fs/promises';
import {execa} from 'execa';
import {ProblemError} from '../model/field-error.js';
import {wirefilterCommands, type Impairment} from '../model/fault.js';
import type {NodePlan, Plan} from '../model/plan.js';
import {ensureWorkDirs} from './owned-dir.js';
import {isOurProcess, readPidfile, stopProcess, type ProcessIdentity, type StopOutcome} from './processes.js';
import type {ProcessEntry, StateStore} from './state.js';
import {manage} from './vde-manage.js';
import {managementAnswers} from './vde.js';
import {waitFor} from './wait.js';

// A node's impairable link (network.impairment): its own small vde_switch,
// which QEMU plugs into, and a wirefilter from there to the node's port of the
// cluster switch. Both daemonise; both are recorded before they start.

const READY_TIMEOUT_MS = 10_000;

type LinkDaemon = {kind: 'node-switch' | 'wirefilter'; argv: string[]; pidfile: string; mgmt: string; sockets: string[]};

function daemonsOf(node: NodePlan): LinkDaemon[] {
	const link = node.link.impairment;
	if (!link) return [];
	return [
		{kind: 'node-switch', argv: link.switchArgv, pidfile: link.switchPidfile, mgmt: link.switchMgmt, sockets: [link.switchSocket, link.switchMgmt]},
		{kind: 'wirefilter', argv: link.wirefilterArgv, pidfile: link.wirefilterPidfile, mgmt: link.wirefilterMgmt, sockets: [link.wirefilterMgmt]},
	];
}

// Its binary and its pidfile argument: a reused PID never matches.
function identityOfDaemon(daemon: LinkDaemon): ProcessIdentity {
	const flag = daemon.kind === 'wirefilter' ? '--pidfile' : '-p';
	return {exe: [daemon.argv[0]!], args: [flag, daemon.pidfile]};
}

async function runningPid(daemon: LinkDaemon): Promise<number | undefined> {
	const pid = await readPidfile(daemon.pidfile);
	return (await isOurProcess(pid, identityOfDaemon(daemon))) ? pid : undefined;
}

// Starts the node's switch, then its wirefilter (reused when they already run).
export async function startNodeLink(node: NodePlan, plan: Plan, state: StateStore, signal?: AbortSignal): Promise<void> {
	const link = node.link.impairment;
	if (!link) return;
	await ensureWorkDirs(plan.workDir, [link.dir]);
	for (const daemon of daemonsOf(node)) {
		if (await runningPid(daemon)) continue;
		await Promise.all(daemon.sockets.concat(daemon.pidfile).map(file => fs.rm(file, {recursive: true, force: true})));
		const identity = identityOfDaemon(daemon);
		const entry: ProcessEntry = {kind: daemon.kind, node: node.name, pidfile: daemon.pidfile, argv: daemon.argv, exe: identity.exe, match: identity.args, sockets: daemon.sockets, ports: [], startedAt: new Date().toISOString(), status: 'starting'};
		await state.recordProcess(entry);
		signal?.throwIfAborted();
		const result = await execa(daemon.argv[0]!, daemon.argv.slice(1), {reject: false, timeout: READY_TIMEOUT_MS, cancelSignal: signal});
		if (result.exitCode !== 0) {
			await state.setProcess(daemon.kind, node.name, {status: 'failed', reason: result.stderr});
			throw new ProblemError({message: `${node.name}: ${daemon.argv[0]} failed to start (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}`});
		}
		const pid = await waitFor(`${node.name}'s ${daemon.kind} pidfile ${daemon.pidfile}`, () => readPidfile(daemon.pidfile), {timeoutMs: READY_TIMEOUT_MS, signal});
		await state.setProcess(daemon.kind, node.name, {pid, pgid: pid});
		await waitFor(`${node.name}'s ${daemon.kind} to answer on ${daemon.mgmt}`, async () => ((await managementAnswers(daemon.mgmt).catch(() => undefined)) ? true : undefined), {timeoutMs: READY_TIMEOUT_MS, signal});
		await state.setProcess(daemon.kind, node.name, {status: 'running'});
	}
}

// Wirefilter first: the node's switch is what QEMU is plugged into.
export async function stopNodeLink(node: NodePlan): Promise<Array<{kind: LinkDaemon['kind']; what: string; outcome: StopOutcome}>> {
	const outcomes: Array<{kind: LinkDaemon['kind']; what: string; outcome: StopOutcome}> = [];
	for (const daemon of daemonsOf(node).reverse()) {
		const pid = await runningPid(daemon);
		const outcome = pid ? await stopProcess(pid, identityOfDaemon(daemon), 2000) : 'gone';
		outcomes.push({kind: daemon.kind, what: `${daemon.kind} ${node.name}`, outcome});
		if (!outcome.startsWith('not stopped')) await Promise.all(daemon.sockets.concat(daemon.pidfile).map(file => fs.rm(file, {recursive: true, force: true})));
	}
	return outcomes;
}

// Sets the link's impairment (all of it: what is unset goes back to none).
export async function setImpairment(node: NodePlan, impairment: Impairment): Promise<void> {
	const link = node.link.impairment;
	if (!link) {
		throw new ProblemError({field: 'network.impairment', message: `${node.name}'s link has no wirefilter: delay, jitter, loss and bandwidth need one`, fix: 'set network.impairment: true in the profile, then down and up again'});
	}
	await manage(link.wirefilterMgmt, wirefilterCommands(impairment));
}
