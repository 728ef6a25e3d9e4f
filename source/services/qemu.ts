import fs from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {QEMU_BINARY, type NodePlan, type Plan} from '../model/plan.js';
import {ensureUsableDir, ensureWorkDirs, openOwnFile} from './owned-dir.js';
import {isOurProcess, readPidfile, statOf, stopProcess, waitForExit, type ProcessIdentity, type StopOutcome} from './processes.js';
import {QmpClient} from './qmp.js';
import type {StateStore} from './state.js';
import {waitFor} from './wait.js';

// One QEMU process per node, started from the plan's argument array as the
// leader of its own process group (so a stop reaches every thread and child),
// recorded in the state file before it starts.

export type NodeProcess = {
	pid: number;
	attached: boolean;
	// Resolves when the process is gone, with what it left in its log.
	exited: Promise<{code?: number | null; lastLines: string[]}>;
};

const START_TIMEOUT_MS = 15_000;

export async function createDisk(node: NodePlan, signal?: AbortSignal): Promise<'created' | 'kept'> {
	try {
		await fs.access(node.disk.path);
		return 'kept';
	} catch {
		// create below
	}
	await ensureUsableDir(path.dirname(node.disk.path));
	// Snapshots live inside the disk. After a `loadvm` its VM-state area is shared with the snapshot, and the
	// next `savevm` (a restore's rollback copy) copied it on write cluster by cluster: 2.2 s instead of 0.3 s
	// per node with 64 KiB clusters. 2 MiB clusters and lazy refcounts: 0.34-0.41 s, and `loadvm` 0.36-0.5 s
	// instead of 0.7 s (bench/README.md, snapshot). A disk left dirty by a killed QEMU is repaired on its next open.
	const args = ['create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on'];
	if (node.disk.backing) args.push('-b', path.resolve(node.disk.backing), '-F', node.disk.backing.endsWith('.qcow2') ? 'qcow2' : 'raw');
	args.push(node.disk.path, `${node.disk.sizeGiB}G`);
	const result = await execa('qemu-img', args, {reject: false, timeout: 60_000, cancelSignal: signal});
	if (result.exitCode !== 0) throw new Error(`qemu-img create failed for ${node.name}: ${result.stderr.trim()}`);
	return 'created';
}

// `-pidfile <path>` is in QEMU's argv and names both the work directory and
// the node: a reused PID, or the same profile run from another work directory,
// never matches; and the process must be QEMU itself (/proc/<pid>/exe).
export function nodeIdentity(node: NodePlan): ProcessIdentity {
	return {exe: [QEMU_BINARY], args: ['-pidfile', node.runtime.pidfile]};
}

export async function nodePid(node: NodePlan, plan: Plan): Promise<number | undefined> {
	const pid = await readPidfile(node.runtime.pidfile);
	return (await isOurProcess(pid, nodeIdentity(node))) ? pid : undefined;
}

// The names of the plan's nodes whose QEMU runs now.
export async function runningNodes(plan: Plan): Promise<Set<string>> {
	const running = await Promise.all(plan.nodes.map(async node => ((await nodePid(node, plan)) !== undefined ? node.name : undefined)));
	return new Set(running.filter(name => name !== undefined));
}

async function lastLines(file: string, count = 8): Promise<string[]> {
	const text = await fs.readFile(file, 'utf8').catch(() => '');
	return text.trimEnd().split('\n').filter(Boolean).slice(-count);
}

function watchPid(pid: number, tag: ProcessIdentity, log: string): NodeProcess['exited'] {
	return (async () => {
		// Unreferenced: watching an attached node never keeps the tool from exiting.
		while (await isOurProcess(pid, tag)) await new Promise(resolve => setTimeout(resolve, 1000).unref());
		return {lastLines: await lastLines(log)};
	})();
}

// onSpawn hears the PID as soon as the process exists, before its pidfile: an
// abort in between can still stop it. installed: boot what the install wrote (node.qemuArgsInstalled).
export async function startNode(node: NodePlan, plan: Plan, state: StateStore, signal?: AbortSignal, onSpawn?: (pid: number) => void, installed = false): Promise<NodeProcess> {
	const qemuArgs = installed ? node.qemuArgsInstalled : node.qemuArgs;
	const running = await nodePid(node, plan);
	if (running) return {pid: running, attached: true, exited: watchPid(running, nodeIdentity(node), node.runtime.qemuLog)};
	const runDir = path.dirname(node.runtime.pidfile);
	await ensureWorkDirs(plan.workDir, [runDir, node.dir]);
	if (qemuArgs.some(arg => arg.startsWith('if=pflash'))) await ensureFirmwareVars(node, plan);
	await Promise.all([node.runtime.consoleSocket, node.runtime.qmpSocket, node.runtime.pidfile].map(f => fs.rm(f, {force: true})));
	// A fresh console log per boot: what the panes show is this boot's output. Never through a symlink:
	// QEMU appends to the file found there.
	await (await openOwnFile(node.runtime.consoleLog, 'truncate')).close();
	await state.recordProcess({
		kind: 'qemu',
		node: node.name,
		pidfile: node.runtime.pidfile,
		argv: [QEMU_BINARY, ...qemuArgs],
		exe: nodeIdentity(node).exe,
		match: nodeIdentity(node).args,
		sockets: [node.runtime.consoleSocket, node.runtime.qmpSocket],
		ports: [node.sshPort],
		startedAt: new Date().toISOString(),
		status: 'starting',
	});
	const log = node.runtime.qemuLog;
	// QEMU gets the log's file descriptor itself: execa's {file} option pipes through this
	// process, which would keep `up` from exiting while the VMs it leaves running live on.
	signal?.throwIfAborted();
	const logHandle = await openOwnFile(log, 'truncate');
	// execa's types spell descriptors as the literals 3-9; any open descriptor works at run time.
	const fd = logHandle.fd as 3;
	const child = execa(QEMU_BINARY, qemuArgs, {detached: true, cleanup: false, stdin: 'ignore', stdout: fd, stderr: fd, reject: false});
	await logHandle.close();
	child.unref();
	const pid = child.pid;
	if (!pid) throw new Error(`${node.name}: ${QEMU_BINARY} did not start`);
	onSpawn?.(pid);
	await state.setProcess('qemu', node.name, {pid, pgid: pid, startTicks: (await statOf(pid))?.startTicks});
	const exited = child.then(async result => ({code: result.exitCode, lastLines: await lastLines(log)}));
	const early = await Promise.race([
		exited.then(outcome => outcome),
		waitFor(`${node.name}'s QEMU pidfile`, () => readPidfile(node.runtime.pidfile), {timeoutMs: START_TIMEOUT_MS, signal}).then(() => undefined),
	]);
	if (early) {
		await state.setProcess('qemu', node.name, {status: 'failed', reason: early.lastLines.join(' | ')});
		throw new Error(`${node.name}: QEMU exited at once (code ${early.code}): ${early.lastLines.join(' | ') || 'no output'}`);
	}
	await state.setProcess('qemu', node.name, {status: 'running'});
	return {pid, attached: false, exited};
}

// The node's own OVMF variable store, copied once from the template: its boot entries live on in it.
async function ensureFirmwareVars(node: NodePlan, plan: Plan): Promise<void> {
	const {ovmf} = plan.boot;
	if (!ovmf || !node.firmwareVars) return;
	await fs.copyFile(ovmf.varsTemplate, node.firmwareVars, fs.constants.COPYFILE_EXCL).catch((error: NodeJS.ErrnoException) => {
		if (error.code !== 'EEXIST') throw error;
	});
	await fs.chmod(node.firmwareVars, 0o600);
}

// Power button first (a real OS shuts down cleanly), then QMP quit, then kill.
export async function stopNode(node: NodePlan, plan: Plan, options: {graceMs?: number; pid?: number} = {}): Promise<'powered-down' | 'quit' | StopOutcome> {
	// The recorded PID covers a QEMU that has not written its pidfile yet (stopped mid-start).
	const pid = (await nodePid(node, plan)) ?? ((await isOurProcess(options.pid, nodeIdentity(node))) ? options.pid : undefined);
	let outcome: 'powered-down' | 'quit' | StopOutcome = 'gone';
	if (pid) {
		let qmp: QmpClient | undefined;
		try {
			qmp = await QmpClient.connect(node.runtime.qmpSocket, 2000);
			await qmp.execute('system_powerdown');
			if (await waitForExit(pid, nodeIdentity(node), options.graceMs ?? 3000)) outcome = 'powered-down';
			else {
				await qmp.execute('quit').catch(() => undefined);
				if (await waitForExit(pid, nodeIdentity(node), 3000)) outcome = 'quit';
			}
		} catch {
			// No QMP (hung or half-started QEMU): fall through to signals.
		} finally {
			qmp?.close();
		}
		if (outcome === 'gone') {
			const stopped = await stopProcess(pid, nodeIdentity(node), 2000);
			outcome = stopped === 'gone' ? 'quit' : stopped === 'terminated' ? 'killed' : stopped;
		}
	}
	// A QEMU that still runs keeps its sockets and pidfile: the next `down` finds it by them.
	if (!outcome.startsWith('not stopped')) await Promise.all([node.runtime.consoleSocket, node.runtime.qmpSocket, node.runtime.pidfile].map(f => fs.rm(f, {force: true})));
	return outcome;
}
