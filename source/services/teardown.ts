import fs from 'node:fs/promises';
import path from 'node:path';
import {QEMU_BINARY, type Plan} from '../model/plan.js';
import {formatBytes, snapshotFileFor, snapshotSizeBytes} from '../model/snapshot.js';
import {writeFileAtomic} from './atomic-file.js';
import {listSnapshots} from './snapshots.js';
import {isMarked, removeOwnedDir} from './owned-dir.js';
import {findByIdentity, findProcesses, hasArgs, stopGroup, stopProcess, type LiveProcess, type ProcessIdentity, type StopOutcome} from './processes.js';
import {stopNode} from './qemu.js';
import {identityOf, readState, type ProcessEntry} from './state.js';
import {stopSwitch} from './vde.js';

// notStopped: what is ours but still runs (a kill refused with EPERM, a survivor); `down` exits 1 then.
// refused: what was left in place because plasma-tui did not make it (no marker, a symlink).
export type TeardownReport = {stopped: string[]; removed: string[]; notStopped: string[]; refused?: string[]};

// The nodes' link daemons (network.impairment) go first too: QEMU only loses its switch.
const TOOL_KINDS: Array<ProcessEntry['kind']> = ['nixos-anywhere', 'nix', 'image-build', 'wirefilter', 'node-switch', 'kvm-probe'];

// Stops the tools a run recorded (nixos-anywhere, nix, the image build: each
// with its process group), every node of the work directory, then its switch,
// then removes the sockets and the nodes' extra-files staging. Nodes are found
// by their pidfiles and, should the state file be gone, by their argv: QEMU
// with `-pidfile <workDir>/run/<node>/qemu.pid`, compared as paths, so a work
// directory nested inside this one is never touched.
export async function teardown(plan: Plan, options: {purge?: boolean; only?: string[]; graceMs?: number} = {}): Promise<TeardownReport> {
	const stopped: string[] = [];
	const removed: string[] = [];
	const notStopped: string[] = [];
	const say = (what: string, outcome: StopOutcome | 'powered-down' | 'quit') => {
		if (outcome.startsWith('not stopped')) notStopped.push(`${what}: ${outcome}`);
		else if (outcome !== 'gone') stopped.push(`${what} (${outcome})`);
	};
	const state = await readState(plan.stateFile).catch(() => undefined);
	const nodes = plan.nodes.filter(n => !options.only || options.only.includes(n.name));
	const inScope = (entry: ProcessEntry) => !options.only || (entry.node !== undefined && options.only.includes(entry.node));

	const leftRunning = new Set<ProcessEntry>();
	for (const entry of (state?.processes ?? []).filter(e => TOOL_KINDS.includes(e.kind) && inScope(e))) {
		const outcome = await stopRecordedTool(entry, options.graceMs);
		say(`${entry.kind}${entry.node ? ` ${entry.node}` : ''} (pid ${entry.pid ?? '?'})`, outcome);
		if (outcome.startsWith('not stopped')) leftRunning.add(entry);
	}

	const recordedPid = (name: string) => state?.processes.find(p => p.kind === 'qemu' && p.node === name)?.pid;
	const outcomes = await Promise.all(nodes.map(node => stopNode(node, plan, {graceMs: options.graceMs, pid: recordedPid(node.name)})));
	nodes.forEach((node, index) => say(node.name, outcomes[index]!));
	// Reported once: the sweep below would find a node or switch that refused to stop again.
	const stillRunning = new Set(nodes.filter((_, index) => outcomes[index]!.startsWith('not stopped')).map(node => node.runtime.pidfile));
	for (const node of nodes) {
		if (node.install.method !== 'nixos-anywhere') continue;
		const staged = await fs.lstat(node.install.extraFilesDir).catch(() => undefined);
		if (!staged) continue;
		await fs.rm(node.install.extraFilesDir, {recursive: true, force: true});
		removed.push(node.install.extraFilesDir);
	}
	if (options.only) return {stopped, removed, notStopped};

	const switchOutcome = await stopSwitch(plan);
	say('vde_switch', switchOutcome);
	if (switchOutcome.startsWith('not stopped')) stillRunning.add(plan.vde.socket).add(plan.vde.pidfile);

	// Whatever still runs with this work directory's paths in its argv (a state file lost, a pidfile removed).
	for (const orphan of await findOrphans(plan)) {
		if (stillRunning.has(orphan.identity.args[1]!)) continue;
		const what = `pid ${orphan.pid} (${orphan.exe ?? orphan.argv[0]}`;
		if (orphan.error) {
			notStopped.push(`${what}): not stopped: ${orphan.error === 'EACCES' ? 'EPERM' : orphan.error}`);
			continue;
		}
		const outcome = await stopProcess(orphan.pid, orphan.identity, 2000);
		if (outcome.startsWith('not stopped')) notStopped.push(`${what}): ${outcome}`);
		else if (outcome !== 'gone') stopped.push(`${what}, ${outcome})`);
	}

	// Nothing is removed without the marker: a workDir that is a folder of the operator's loses nothing.
	const refused: string[] = [];
	const remove = async (dir: string) => {
		const outcome = await removeOwnedDir(dir);
		if (outcome === 'removed') removed.push(dir);
		else if (outcome !== 'absent') refused.push(outcome.refused);
	};
	// Sockets and pidfiles of something still running stay: the next `down` needs them.
	if (notStopped.length === 0) await remove(path.join(plan.workDir, 'run'));
	// The state file is rewritten only in a work directory plasma-tui made.
	if (state && (await isMarked(plan.workDir))) {
		// What could not be stopped stays on record for the next `down`.
		const nodeLeft = (entry: ProcessEntry) => entry.kind === 'qemu' && nodes.some(node => node.name === entry.node && stillRunning.has(node.runtime.pidfile));
		const switchLeft = (entry: ProcessEntry) => entry.kind === 'vde' && stillRunning.has(plan.vde.pidfile);
		state.processes = state.processes.filter(entry => leftRunning.has(entry) || nodeLeft(entry) || switchLeft(entry));
		for (const name of Object.keys(state.nodes)) state.nodes[name] = {phase: 'pending', since: new Date().toISOString(), reason: 'stopped by down'};
		// A stopped cluster has no faults: the next up starts clean.
		delete state.faults;
		// A stopped cluster that is brought down is no longer "stopped": the next up starts it afresh.
		delete state.lifecycle;
		await writeFileAtomic(plan.stateFile, `${JSON.stringify(state, null, 2)}\n`, 0o600);
	}
	if (options.purge && notStopped.length === 0) await remove(plan.workDir);
	return {stopped, removed, notStopped, refused};
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
	for (const meta of (await listSnapshots(plan)).snapshots) {
		items.push(`snapshot ${meta.name} (taken ${meta.takenAt}, ${meta.nodes.length} nodes, ${formatBytes(snapshotSizeBytes(meta))} inside the node disks; metadata ${snapshotFileFor(plan, meta.name)})`);
	}
	if (!plan.tls.reuseExisting && (await has(plan.tls.caKey))) items.push(`CA certificate and key ${plan.tls.dir}`);
	if (inside(plan.ssh.privateKey) && (await has(plan.ssh.privateKey))) items.push(`SSH key for the nodes ${plan.ssh.privateKey}`);
	for (const file of [plan.stateFile, plan.report.json]) if (await has(file)) items.push(`${file === plan.stateFile ? 'state' : 'report'} ${file}`);
	return {workDir: plan.workDir, marked: await isMarked(plan.workDir), items};
}


// A recorded tool with its group; a record without a pid (killed between the
// record and the start) is looked for by its argv and exe.
async function stopRecordedTool(entry: ProcessEntry, graceMs = 3000): Promise<StopOutcome> {
	const identity = identityOf(entry);
	if (entry.pid) return stopGroup(entry, identity, graceMs);
	let outcome: StopOutcome = 'gone';
	for (const found of await findByIdentity(identity)) {
		const one = found.error ? 'not stopped: EPERM' : await stopGroup({pid: found.pid, pgid: found.pid}, identity, graceMs);
		if (one !== 'gone') outcome = one;
	}
	return outcome;
}

type Orphan = LiveProcess & {identity: ProcessIdentity};

// QEMU whose `-pidfile` is <runDir>/<one name>/<pidfile name>, and the switch of
// this plan's socket or pidfile. Paths are compared whole: <workDir>/x/run/...
// belongs to another work directory.
async function findOrphans(plan: Plan): Promise<Orphan[]> {
	const sample = plan.nodes[0]?.runtime.pidfile;
	const runDir = sample ? path.dirname(path.dirname(sample)) : path.join(plan.workDir, 'run');
	const pidfileName = sample ? path.basename(sample) : 'qemu.pid';
	const identify = (found: LiveProcess): ProcessIdentity | undefined => {
		const name = path.basename(found.exe ?? found.argv[0] ?? '');
		if (name === QEMU_BINARY) {
			const index = found.argv.indexOf('-pidfile');
			const pidfile = index >= 0 ? found.argv[index + 1] : undefined;
			if (pidfile && path.resolve(path.dirname(path.dirname(pidfile))) === path.resolve(runDir) && path.basename(pidfile) === pidfileName) return {exe: [QEMU_BINARY], args: ['-pidfile', pidfile]};
		}
		if (name === 'vde_switch') {
			if (hasArgs(found.argv, ['-s', plan.vde.socket])) return {exe: ['vde_switch'], args: ['-s', plan.vde.socket]};
			if (hasArgs(found.argv, ['-p', plan.vde.pidfile])) return {exe: ['vde_switch'], args: ['-p', plan.vde.pidfile]};
		}
		// The nodes' link daemons (network.impairment), by their planned pidfiles.
		for (const link of plan.nodes.flatMap(node => (node.link.impairment ? [node.link.impairment] : []))) {
			if (name === 'vde_switch' && hasArgs(found.argv, ['-p', link.switchPidfile])) return {exe: ['vde_switch'], args: ['-p', link.switchPidfile]};
			if (name === 'wirefilter' && hasArgs(found.argv, ['--pidfile', link.wirefilterPidfile])) return {exe: ['wirefilter'], args: ['--pidfile', link.wirefilterPidfile]};
		}
		return undefined;
	};
	const orphans: Orphan[] = [];
	for (const found of await findProcesses(p => identify(p) !== undefined)) orphans.push({...found, identity: identify(found)!});
	return orphans;
}

