import fs from 'node:fs/promises';
import path from 'node:path';
import type {Plan} from '../model/plan.js';
import {writeFileAtomic} from './atomic-file.js';
import {isMarked, removeOwnedDir} from './owned-dir.js';
import {findProcessesByTag, stopProcess} from './processes.js';
import {stopNode} from './qemu.js';
import {readState} from './state.js';
import {stopSwitch} from './vde.js';

// refused: what was left in place because plasma-tui did not make it (no marker, a symlink).
export type TeardownReport = {stopped: string[]; removed: string[]; refused?: string[]};

// Stops every node of the work directory, then its switch, then removes the
// sockets. Nodes are found by their pidfiles and, should the state file be
// gone, by command lines that carry the work directory: nothing is orphaned,
// and nothing of another work directory is touched.
export async function teardown(plan: Plan, options: {purge?: boolean; only?: string[]; graceMs?: number} = {}): Promise<TeardownReport> {
	const stopped: string[] = [];
	const removed: string[] = [];
	const refused: string[] = [];
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

	// Nothing is removed without the marker: a workDir that is a folder of the operator's loses nothing.
	const remove = async (dir: string) => {
		const outcome = await removeOwnedDir(dir);
		if (outcome === 'removed') removed.push(dir);
		else if (outcome !== 'absent') refused.push(outcome.refused);
	};
	await remove(path.join(plan.workDir, 'run'));
	const ours = await isMarked(plan.workDir);
	const state = ours ? await readState(plan.stateFile).catch(() => undefined) : undefined;
	if (state) {
		state.processes = [];
		for (const name of Object.keys(state.nodes)) state.nodes[name] = {phase: 'pending', since: new Date().toISOString(), reason: 'stopped by down'};
		await writeFileAtomic(plan.stateFile, `${JSON.stringify(state, null, 2)}\n`, 0o600);
	}
	if (options.purge) await remove(plan.workDir);
	return {stopped, removed, refused};
}

// What `down --purge` deletes, for the operator to read before saying yes: the work directory and,
// inside it, the disks, certificates and keys, snapshots and logs that exist now.
export async function purgeInventory(plan: Plan): Promise<{workDir: string; marked: boolean; items: string[]}> {
	const items: string[] = [];
	const has = async (file: string) => (await fs.lstat(file).catch(() => undefined)) !== undefined;
	const inside = (file: string) => file.startsWith(`${plan.workDir}${path.sep}`);
	for (const node of plan.nodes) {
		const disk = await fs.stat(node.disk.path).catch(() => undefined);
		if (disk) items.push(`disk ${node.disk.path} (${(disk.blocks * 512 / 2 ** 20).toFixed(0)} MiB used)`);
		const snapshots = (await fs.readdir(node.dir).catch(() => [] as string[])).filter(name => name.endsWith('.qcow2') && path.join(node.dir, name) !== node.disk.path);
		for (const name of snapshots) items.push(`snapshot ${path.join(node.dir, name)}`);
		if (await has(node.secrets.dir)) items.push(`certificates and key of ${node.name} ${node.secrets.dir}`);
		if (await has(node.files.hostKey)) items.push(`SSH host key of ${node.name} ${node.files.hostKey}`);
	}
	if (!plan.tls.reuseExisting && (await has(plan.tls.caKey))) items.push(`CA certificate and key ${plan.tls.dir}`);
	if (inside(plan.ssh.privateKey) && (await has(plan.ssh.privateKey))) items.push(`SSH key for the nodes ${plan.ssh.privateKey}`);
	for (const file of [plan.stateFile, plan.report.json]) if (await has(file)) items.push(`${file === plan.stateFile ? 'state' : 'report'} ${file}`);
	return {workDir: plan.workDir, marked: await isMarked(plan.workDir), items};
}

