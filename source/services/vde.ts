import type {Stats} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import {execa} from 'execa';
import {ProblemError} from '../model/field-error.js';
import type {Plan} from '../model/plan.js';
import {ensureWorkDirs} from './owned-dir.js';
import {isOurProcess, readPidfile, stopProcess, type ProcessIdentity, type StopOutcome} from './processes.js';
import type {StateStore} from './state.js';
import {waitFor} from './wait.js';

const READY_TIMEOUT_MS = 10_000;

// The switch answers on its management socket with a banner once it is up.
export function managementAnswers(mgmtSocket: string, timeoutMs = 1000): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(mgmtSocket);
		let text = '';
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error(`no answer on ${mgmtSocket}`));
		}, timeoutMs);
		socket.on('data', chunk => {
			text += chunk.toString();
			if (text.includes('$ ') || text.includes('VDE')) {
				clearTimeout(timer);
				socket.end();
				resolve(text);
			}
		});
		socket.on('error', error => {
			clearTimeout(timer);
			reject(error);
		});
	});
}

// The switch of this plan: vde_switch itself, with `-s <the planned socket>` in its argv.
export function switchIdentity(plan: Plan): ProcessIdentity {
	return {exe: ['vde_switch'], args: ['-s', plan.vde.socket]};
}

export async function switchPid(plan: Plan): Promise<number | undefined> {
	const pid = await readPidfile(plan.vde.pidfile);
	return (await isOurProcess(pid, switchIdentity(plan))) ? pid : undefined;
}

// Starts the cluster's switch (or reuses the one this work directory already runs).
export async function startSwitch(plan: Plan, state: StateStore, signal?: AbortSignal): Promise<{pid: number; reused: boolean}> {
	const running = await switchPid(plan);
	if (running) return {pid: running, reused: true};
	await ensureWorkDirs(plan.workDir, [plan.vde.dir]);
	await removeSwitchFiles(plan);
	const argv = ['-d', '-s', plan.vde.socket, '-M', plan.vde.mgmt, '-p', plan.vde.pidfile];
	await state.recordProcess({kind: 'vde', pidfile: plan.vde.pidfile, argv: ['vde_switch', ...argv], exe: switchIdentity(plan).exe, match: switchIdentity(plan).args, sockets: [plan.vde.socket, plan.vde.mgmt], ports: [], startedAt: new Date().toISOString(), status: 'starting'});
	signal?.throwIfAborted();
	const result = await execa('vde_switch', argv, {reject: false, timeout: READY_TIMEOUT_MS, cancelSignal: signal});
	try {
		if (result.exitCode !== 0) {
			await state.setProcess('vde', undefined, {status: 'failed', reason: result.stderr});
			throw new Error(`vde_switch failed to start (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}`);
		}
		const pid = await waitFor(`the VDE switch pidfile ${plan.vde.pidfile}`, () => readPidfile(plan.vde.pidfile), {timeoutMs: READY_TIMEOUT_MS, signal});
		// Daemonised: it leads its own session and group.
		await state.setProcess('vde', undefined, {pid, pgid: pid});
		await waitFor(`the VDE switch to answer on ${plan.vde.mgmt}`, async () => ((await managementAnswers(plan.vde.mgmt)) ? true : undefined), {timeoutMs: READY_TIMEOUT_MS, signal});
		await state.setProcess('vde', undefined, {status: 'running'});
		return {pid, reused: false};
	} catch (error) {
		// vde_switch -d detaches at once: a cancel or a failed wait must not leave it behind.
		await stopSwitch(plan);
		throw error;
	}
}

export async function stopSwitch(plan: Plan, pid?: number): Promise<StopOutcome> {
	const target = pid ?? (await switchPid(plan));
	const outcome = target ? await stopProcess(target, switchIdentity(plan), 2000) : 'gone';
	// A switch that still runs keeps its sockets and pidfile: the next `down` finds it by them.
	if (outcome.startsWith('not stopped')) return outcome;
	await removeSwitchFiles(plan);
	return outcome;
}

// vde_switch makes its data socket a directory of sockets, its management socket a socket and
// its pidfile a file: only those shapes are removed, so a vdeSocket that points at anything
// else (another switch's files, a folder of the operator's) is refused, never deleted.
async function removeSwitchFiles(plan: Plan): Promise<void> {
	const shapes: Array<[string, (stat: Stats) => boolean, string]> = [
		[plan.vde.socket, stat => stat.isDirectory() || stat.isSocket(), 'a VDE switch socket'],
		[plan.vde.mgmt, stat => stat.isSocket(), 'a socket'],
		[plan.vde.pidfile, stat => stat.isFile(), 'a pidfile'],
	];
	for (const [file, isExpected, what] of shapes) {
		const stat = await fs.lstat(file).catch(() => undefined);
		if (!stat) continue;
		if (!isExpected(stat) || (stat.isDirectory() && !(await holdsOnlySwitchFiles(file)))) {
			throw new ProblemError({message: `${file} is not ${what} of a stopped VDE switch: left in place`, fix: 'remove it yourself, or set network.vdeSocket to a path of its own'});
		}
		await fs.rm(file, {recursive: true, force: true});
	}
}

// A data socket directory holds `ctl` and numbered port sockets, nothing else.
async function holdsOnlySwitchFiles(dir: string): Promise<boolean> {
	for (const entry of await fs.readdir(dir)) {
		const stat = await fs.lstat(path.join(dir, entry)).catch(() => undefined);
		if (stat && !stat.isSocket()) return false;
	}
	return true;
}
