import fs from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {QEMU_BINARY, type NodePlan, type Plan} from '../model/plan.js';
import {isOurProcess, readPidfile, stopProcess, waitForExit} from './processes.js';
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

export function qemuLogOf(node: NodePlan): string {
	return path.join(path.dirname(node.runtime.pidfile), 'qemu.log');
}

export async function createDisk(node: NodePlan, signal?: AbortSignal): Promise<'created' | 'kept'> {
	try {
		await fs.access(node.disk.path);
		return 'kept';
	} catch {
		// create below
	}
	await fs.mkdir(path.dirname(node.disk.path), {recursive: true, mode: 0o700});
	const args = ['create', '-q', '-f', 'qcow2'];
	if (node.disk.backing) args.push('-b', path.resolve(node.disk.backing), '-F', node.disk.backing.endsWith('.qcow2') ? 'qcow2' : 'raw');
	args.push(node.disk.path, `${node.disk.sizeGiB}G`);
	const result = await execa('qemu-img', args, {reject: false, timeout: 60_000, cancelSignal: signal});
	if (result.exitCode !== 0) throw new Error(`qemu-img create failed for ${node.name}: ${result.stderr.trim()}`);
	return 'created';
}

export async function nodePid(node: NodePlan, plan: Plan): Promise<number | undefined> {
	const pid = await readPidfile(node.runtime.pidfile);
	return (await isOurProcess(pid, plan.workDir)) ? pid : undefined;
}

async function lastLines(file: string, count = 8): Promise<string[]> {
	const text = await fs.readFile(file, 'utf8').catch(() => '');
	return text.trimEnd().split('\n').filter(Boolean).slice(-count);
}

function watchPid(pid: number, tag: string, log: string): NodeProcess['exited'] {
	return (async () => {
		while (await isOurProcess(pid, tag)) await new Promise(resolve => setTimeout(resolve, 1000));
		return {lastLines: await lastLines(log)};
	})();
}

export async function startNode(node: NodePlan, plan: Plan, state: StateStore, signal?: AbortSignal): Promise<NodeProcess> {
	const running = await nodePid(node, plan);
	if (running) return {pid: running, attached: true, exited: watchPid(running, plan.workDir, qemuLogOf(node))};
	const runDir = path.dirname(node.runtime.pidfile);
	await fs.mkdir(runDir, {recursive: true, mode: 0o700});
	await Promise.all([node.runtime.consoleSocket, node.runtime.qmpSocket, node.runtime.pidfile].map(f => fs.rm(f, {force: true})));
	// A fresh console log per boot: what the panes show is this boot's output.
	await fs.writeFile(node.runtime.consoleLog, '');
	await state.recordProcess({
		kind: 'qemu',
		node: node.name,
		pidfile: node.runtime.pidfile,
		tag: plan.workDir,
		sockets: [node.runtime.consoleSocket, node.runtime.qmpSocket],
		ports: [node.sshPort],
		startedAt: new Date().toISOString(),
		status: 'starting',
	});
	const log = qemuLogOf(node);
	await fs.writeFile(log, '', {mode: 0o600});
	const child = execa(QEMU_BINARY, node.qemuArgs, {
		detached: true,
		cleanup: false,
		stdin: 'ignore',
		stdout: {file: log, append: true},
		stderr: {file: log, append: true},
		reject: false,
	});
	child.unref();
	const pid = child.pid;
	if (!pid) throw new Error(`${node.name}: ${QEMU_BINARY} did not start`);
	await state.setProcess('qemu', node.name, {pid});
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

// Power button first (a real OS shuts down cleanly), then QMP quit, then kill.
export async function stopNode(node: NodePlan, plan: Plan, options: {graceMs?: number} = {}): Promise<'powered-down' | 'quit' | 'killed' | 'gone'> {
	const pid = await nodePid(node, plan);
	let outcome: 'powered-down' | 'quit' | 'killed' | 'gone' = 'gone';
	if (pid) {
		let qmp: QmpClient | undefined;
		try {
			qmp = await QmpClient.connect(node.runtime.qmpSocket, 2000);
			await qmp.execute('system_powerdown');
			if (await waitForExit(pid, plan.workDir, options.graceMs ?? 3000)) outcome = 'powered-down';
			else {
				await qmp.execute('quit').catch(() => undefined);
				if (await waitForExit(pid, plan.workDir, 3000)) outcome = 'quit';
			}
		} catch {
			// No QMP (hung or half-started QEMU): fall through to signals.
		} finally {
			qmp?.close();
		}
		if (outcome === 'gone') {
			const stopped = await stopProcess(pid, plan.workDir, 2000);
			outcome = stopped === 'gone' ? 'quit' : 'killed';
		}
	}
	await Promise.all([node.runtime.consoleSocket, node.runtime.qmpSocket, node.runtime.pidfile].map(f => fs.rm(f, {force: true})));
	return outcome;
}
