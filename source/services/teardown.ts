import fs from 'node:fs/promises';
import path from 'node:path';
import type {Plan} from '../model/plan.js';
import {writeFileAtomic} from './atomic-file.js';
import {findProcessesByTag, stopProcess} from './processes.js';
import {stopNode} from './qemu.js';
import {readState} from './state.js';
import {stopSwitch} from './vde.js';

export type TeardownReport = {stopped: string[]; removed: string[]};

// Stops every node of the work directory, then its switch, then removes the
// sockets. Nodes are found by their pidfiles and, should the state file be
// gone, by command lines that carry the work directory: nothing is orphaned,
// and nothing of another work directory is touched.
export async function teardown(plan: Plan, options: {purge?: boolean; only?: string[]; graceMs?: number} = {}): Promise<TeardownReport> {
	const stopped: string[] = [];
	const removed: string[] = [];
	const nodes = plan.nodes.filter(n => !options.only || options.only.includes(n.name));
	const outcomes = await Promise.all(nodes.map(node => stopNode(node, plan, {graceMs: options.graceMs})));
	nodes.forEach((node, index) => {
		if (outcomes[index] !== 'gone') stopped.push(`${node.name} (${outcomes[index]})`);
	});
	if (options.only) return {stopped, removed};

	const switchOutcome = await stopSwitch(plan);
	if (switchOutcome !== 'gone') stopped.push(`vde_switch (${switchOutcome})`);

	// Whatever still carries this work directory in its command line (a state file lost, a pidfile removed).
	const workTag = `${plan.workDir}/`;
	for (const orphan of await findProcessesByTag(workTag)) {
		if (!/(^|\/)(qemu-system-x86_64|vde_switch)$/.test(orphan.cmdline.split(' ')[0] ?? '')) continue;
		const outcome = await stopProcess(orphan.pid, workTag, 2000);
		if (outcome !== 'gone') stopped.push(`pid ${orphan.pid} (${orphan.cmdline.split(' ')[0]}, ${outcome})`);
	}

	const runDir = path.join(plan.workDir, 'run');
	if (await exists(runDir)) {
		await fs.rm(runDir, {recursive: true, force: true});
		removed.push(runDir);
	}
	const state = await readState(plan.stateFile).catch(() => undefined);
	if (state) {
		state.processes = [];
		for (const name of Object.keys(state.nodes)) state.nodes[name] = {phase: 'pending', since: new Date().toISOString(), reason: 'stopped by down'};
		await writeFileAtomic(plan.stateFile, `${JSON.stringify(state, null, 2)}\n`, 0o600);
	}
	if (options.purge && (await exists(plan.workDir))) {
		await fs.rm(plan.workDir, {recursive: true, force: true});
		removed.push(plan.workDir);
	}
	return {stopped, removed};
}

async function exists(file: string): Promise<boolean> {
	return fs.access(file).then(
		() => true,
		() => false,
	);
}

