import {constants as fsConstants} from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {QEMU_BINARY, type Plan} from '../model/plan.js';
import {snapshotSizeBytes} from '../model/snapshot.js';
import {listSnapshots} from './snapshots.js';
import {sshPortsInUse} from './host-checks.js';
import {identityOf, liveEntries, readState, type RunState, type StateStore} from './state.js';
import {isOurProcess, signalProcess, statOf, stopGroup} from './processes.js';
import {onPath} from './on-path.js';
import {detectNix} from './nix.js';
import {z} from 'zod';
import {formatProblem, problemOf} from '../model/field-error.js';
import {writeFileAtomic} from './atomic-file.js';
import {readJsonFile} from './json-file.js';
import {ensureUsableDir} from './owned-dir.js';
import {KVM_PROBE_DEBUG_EXIT_PORT, KVM_PROBE_EXIT_CODE, kvmProbeFirmware} from '../model/kvm-probe-firmware.js';

// What must hold on the host before anything starts. Each finding says ok,
// warn or fail, and what to do about it.

export type Finding = {id: string; status: 'ok' | 'warn' | 'fail'; message: string; fix?: string};

const TOOLS: Array<[string, string]> = [
	[QEMU_BINARY, 'qemu-system-x86'],
	['qemu-img', 'qemu-utils'],
	['vde_switch', 'vde2'],
];
// Per VM beyond its RAM: QEMU itself, TCG translation cache.
const VM_OVERHEAD_MIB = 200;


async function toolFindings(env: NodeJS.ProcessEnv): Promise<Finding[]> {
	const findings: Finding[] = [];
	for (const [tool, pkg] of TOOLS) {
		const found = await onPath(tool, env);
		if (!found) {
			findings.push({id: `tool:${tool}`, status: 'fail', message: `${tool} is not installed`, fix: `apt-get install ${pkg}`});
			continue;
		}
		let version = '';
		if (tool === QEMU_BINARY) version = (await execa(found, ['--version'], {reject: false, timeout: 5000})).stdout.split('\n')[0] ?? '';
		findings.push({id: `tool:${tool}`, status: 'ok', message: version || `${tool}: ${found}`});
	}
	return findings;
}

// /dev/kvm can exist and still be useless (here a guest hangs as it enters protected mode, and
// `-cpu host` aborted on some hosts): a few bytes of firmware under `-accel kvm -cpu host`, the
// CPU model the nodes get, decide (model/kvm-probe-firmware.ts). No kernel, no boot.
// Real mode answers within QEMU's start-up; protected mode within microseconds after that.
const KVM_PROBE_MS = 3000;
const PROTECTED_MODE_GRACE_MS = 400;

// Under `up` the probe is one of the run's processes: `run.state` records it before it starts
// (down, Ctrl-C and the next up stop it; a leftover of a killed run goes first), and `run.signal` stops it.
export type ProbeRun = {signal?: AbortSignal; state?: {readonly current: Pick<RunState, 'processes'>} & Pick<StateStore, 'recordProcess' | 'setProcess' | 'removeProcess'>};

export async function probeKvm(env: NodeJS.ProcessEnv = process.env, run: ProbeRun = {}): Promise<{usable: boolean; why: string}> {
	try {
		await fs.access('/dev/kvm', fsConstants.R_OK | fsConstants.W_OK);
	} catch {
		return {usable: false, why: '/dev/kvm is missing or not accessible'};
	}
	const qemu = await onPath(QEMU_BINARY, env);
	if (!qemu) return {usable: false, why: `${QEMU_BINARY} is not installed`};
	run.signal?.throwIfAborted();
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-kvm-probe-'));
	const firmware = path.join(dir, 'probe.bin');
	await fs.writeFile(firmware, kvmProbeFirmware(), {mode: 0o600});
	const args = ['-accel', 'kvm', '-cpu', 'host', '-machine', 'q35', '-nodefaults', '-no-user-config', '-display', 'none', '-m', '16', '-bios', firmware, '-serial', 'stdio', '-device', `isa-debug-exit,iobase=${KVM_PROBE_DEBUG_EXIT_PORT},iosize=4`, '-no-reboot'];
	try {
		await recordProbe(run, qemu, args);
		return await runProbe(qemu, args, run);
	} finally {
		await run.state?.removeProcess('kvm-probe', undefined);
		await fs.rm(dir, {recursive: true, force: true});
	}
}

async function recordProbe(run: ProbeRun, qemu: string, args: string[]): Promise<void> {
	if (!run.state) return;
	const previous = run.state.current.processes.find(p => p.kind === 'kvm-probe');
	if (previous) await stopGroup(previous, identityOf(previous), 1000);
	await run.state.recordProcess({kind: 'kvm-probe', argv: [qemu, ...args], exe: [await fs.realpath(qemu).catch(() => qemu)], match: args.slice(args.indexOf('-bios'), args.indexOf('-bios') + 2), sockets: [], ports: [], startedAt: new Date().toISOString(), status: 'starting'});
}

async function runProbe(qemu: string, args: string[], run: ProbeRun): Promise<{usable: boolean; why: string}> {
	run.signal?.throwIfAborted();
	const started = Date.now();
	const probe = execa(qemu, args, {
		reject: false,
		detached: true,
		stdin: 'ignore',
		timeout: KVM_PROBE_MS,
		killSignal: 'SIGKILL',
	});
	const kill = () => {
		if (probe.pid && probe.exitCode === null) signalProcess(probe.pid, 'SIGKILL', true);
	};
	run.signal?.addEventListener('abort', kill, {once: true});
	try {
		if (probe.pid) await run.state?.setProcess('kvm-probe', undefined, {pid: probe.pid, pgid: probe.pid, startTicks: (await statOf(probe.pid))?.startTicks, status: 'running'});
		let serial = '';
		const answered = new Promise<void>(resolve => {
			let grace: NodeJS.Timeout | undefined;
			probe.stdout?.on('data', (chunk: Buffer) => {
				serial += chunk.toString('latin1');
				if (serial.includes('K')) resolve();
				else if (serial.includes('R')) grace ??= setTimeout(resolve, PROTECTED_MODE_GRACE_MS);
			});
			void probe.finally(() => {
				clearTimeout(grace);
				resolve();
			});
		});
		await answered;
		kill();
		const result = await probe;
		run.signal?.throwIfAborted();
		const ms = Date.now() - started;
		if (serial.includes('RK') || result.exitCode === KVM_PROBE_EXIT_CODE) return {usable: true, why: `a probe guest ran real and protected mode under KVM in ${ms} ms`};
		if (serial.includes('R')) return {usable: false, why: 'KVM probe: the guest runs real mode but hangs entering protected mode (a kernel would hang after "Probing EDD")'};
		const stderr = result.stderr?.toString().trim().split('\n')[0];
		return {usable: false, why: stderr ? `KVM probe failed: ${stderr}` : `KVM probe printed nothing within ${KVM_PROBE_MS / 1000} s (guest hangs)`};
	} finally {
		run.signal?.removeEventListener('abort', kill);
		kill();
	}
}

const kvmProbeCacheSchema = z.strictObject({bootId: z.string(), usable: z.boolean(), why: z.string()});
type ProbeVerdict = {usable: boolean; why: string; cacheWarning?: string};

// The probe's verdict holds until the host reboots: cached per boot id. A
// cache that is empty, corrupt or of another shape is only a cache: it is
// named, probed again and rewritten, never a failure.
export async function cachedProbe(env: NodeJS.ProcessEnv, cacheFile?: string, run: ProbeRun = {}): Promise<ProbeVerdict> {
	const bootId = (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
	let bad: string | undefined;
	if (cacheFile && bootId) {
		const cached = await readJsonFile(cacheFile, kvmProbeCacheSchema);
		if (cached.status === 'ok' && cached.value.bootId === bootId) return {usable: cached.value.usable, why: `${cached.value.why} (probed earlier since this boot)`};
		if (cached.status === 'bad') bad = cached.why;
	}
	const result = await probeKvm(env, run);
	if (cacheFile && bootId) {
		await ensureUsableDir(path.dirname(cacheFile));
		await writeFileAtomic(cacheFile, JSON.stringify({bootId, ...result}), 0o644);
		return bad ? {...result, cacheWarning: `KVM probe cache ${cacheFile} ${bad}: probed again and rewrote it`} : result;
	}
	return result;
}

export async function accelFindings(plan: Plan, probe: boolean, env: NodeJS.ProcessEnv = process.env, run: ProbeRun = {}): Promise<Finding[]> {
	if (plan.accelWanted === 'tcg') return [{id: 'accel', status: 'ok', message: 'TCG (set in the profile)'}];
	if (!probe) return [{id: 'accel', status: 'ok', message: 'TCG (KVM not probed)'}];
	const result = await cachedProbe(env, plan.kvmProbeCache, run);
	const cache: Finding[] = result.cacheWarning ? [{id: 'cache:kvm-probe', status: 'warn', message: result.cacheWarning}] : [];
	if (result.usable) return [...cache, {id: 'accel', status: 'ok', message: `KVM (${result.why})`}];
	if (plan.accelWanted === 'kvm') return [...cache, {id: 'accel', status: 'fail', message: `KVM requested but unusable: ${result.why}`, fix: 'set boot.accel to auto or tcg'}];
	return [...cache, {id: 'accel', status: 'warn', message: `TCG: ${result.why}`, fix: 'nodes boot slower under TCG (about 10 s for the demo image)'}];
}

export function chosenAccel(findings: Finding[]): 'kvm' | 'tcg' {
	const accel = findings.find(f => f.id === 'accel');
	return accel?.status === 'ok' && accel.message.startsWith('KVM') ? 'kvm' : 'tcg';
}

async function resourceFindings(plan: Plan): Promise<Finding[]> {
	const meminfo = await fs.readFile('/proc/meminfo', 'utf8').catch(() => '');
	const availableMiB = Number(/MemAvailable:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) / 1024;
	const neededMiB = plan.nodes.reduce((sum, n) => sum + n.memoryMiB + VM_OVERHEAD_MIB, 0);
	const findings: Finding[] = [
		availableMiB >= neededMiB
			? {id: 'ram', status: 'ok', message: `RAM: ${Math.round(neededMiB)} MiB needed, ${Math.round(availableMiB)} MiB available`}
			: {id: 'ram', status: 'fail', message: `RAM: ${Math.round(neededMiB)} MiB needed, only ${Math.round(availableMiB)} MiB available`, fix: 'lower memoryMiB per node or the node count'},
	];
	let dir = plan.workDir;
	while (!(await fs.access(dir).then(() => true, () => false))) dir = path.dirname(dir);
	const stats = await fs.statfs(dir);
	const freeGiB = (stats.bavail * stats.bsize) / 2 ** 30;
	// Snapshots live inside the node disks: what they hold is counted, and the next one needs the nodes' RAM again.
	const {snapshots} = await listSnapshots(plan);
	const snapshotGiB = snapshots.reduce((sum, meta) => sum + snapshotSizeBytes(meta), 0) / 2 ** 30;
	const nextSnapshotGiB = snapshots.length > 0 ? plan.nodes.reduce((sum, n) => sum + n.memoryMiB, 0) / 1024 : 0;
	const diskGiB = plan.nodes.reduce((sum, n) => sum + n.diskGiB, 0);
	const held = snapshots.length > 0 ? ` (${snapshots.length} snapshot(s) hold ${snapshotGiB.toFixed(2)} GiB of them: plasma-tui snapshot list)` : '';
	findings.push(
		freeGiB >= diskGiB + nextSnapshotGiB
			? {id: 'disk', status: 'ok', message: `disk: ${diskGiB} GiB of qcow2 disks (sparse)${held}, ${freeGiB.toFixed(1)} GiB free at ${dir}`}
			: {id: 'disk', status: 'warn', message: `disk: the nodes may grow to ${diskGiB} GiB${nextSnapshotGiB > 0 ? ` and another snapshot takes up to ${nextSnapshotGiB.toFixed(1)} GiB` : ''}${held}, only ${freeGiB.toFixed(1)} GiB free at ${dir}`, fix: snapshots.length > 0 ? 'free space, or drop snapshots you no longer need (plasma-tui snapshot delete NAME)' : 'qcow2 disks are sparse, but a full install can fill them: free space or lower diskGiB'},
	);
	return findings;
}

async function bootFileFindings(plan: Plan): Promise<Finding[]> {
	const findings: Finding[] = [];
	// boot.firmware ovmf: only what an installed node's boot needs (its first boot loads the kernel itself).
	const {ovmf} = plan.boot;
	const firmwareBoot = plan.nodes.some(node => node.qemuArgsInstalled.some(arg => arg.startsWith('if=pflash')));
	for (const file of ovmf && firmwareBoot ? [ovmf.code, ovmf.varsTemplate] : []) {
		const ok = await fs.access(file, fsConstants.R_OK).then(() => true, () => false);
		findings.push(ok ? {id: `boot:ovmf:${file}`, status: 'ok', message: `OVMF: ${file}`} : {id: `boot:ovmf:${file}`, status: 'fail', message: `OVMF: ${file} does not exist or is not readable (boot.firmware ovmf)`, fix: 'apt-get install ovmf, or set boot.firmware to seabios'});
	}
	for (const [label, file] of [['kernel', plan.boot.kernel], ['initrd', plan.boot.initrd], ['ISO', plan.boot.iso], ['disk image', plan.boot.diskImage]] as const) {
		if (!file) continue;
		const ok = await fs.access(file, fsConstants.R_OK).then(() => true, () => false);
		if (ok) findings.push({id: `boot:${label}`, status: 'ok', message: `${label}: ${file}`});
		else if (plan.boot.image === 'demo') findings.push({id: `boot:${label}`, status: 'warn', message: `${label}: the demo image is not built yet`, fix: 'it is built on first use (plasma-tui image)'});
		else if (plan.boot.image === 'nix') findings.push({id: `boot:${label}`, status: 'warn', message: `${label}: ${file} not built yet`, fix: `it is built with nix build ${plan.boot.nixAttr ?? ''}`.trim()});
		else findings.push({id: `boot:${label}`, status: 'fail', message: `${label}: ${file} does not exist or is not readable`, fix: `check boot.${label === 'disk image' ? 'diskImage' : label.toLowerCase()} in the profile`});
	}
	return findings;
}

async function nixFindings(plan: Plan, env: NodeJS.ProcessEnv): Promise<Finding[]> {
	if (plan.install.method !== 'nixos-anywhere' && plan.boot.image !== 'nix') return [];
	const findings: Finding[] = [];
	// Another program in nixos-anywhere's place (install.nixosAnywhere.command, e.g. the demo's stand-in) brings no need for nix.
	const standIn = plan.install.method === 'nixos-anywhere' && plan.install.command !== 'nixos-anywhere';
	if (standIn) findings.push(await commandFinding(plan.install.command, env));
	if (standIn && plan.boot.image !== 'nix') return findings;
	const tools = await detectNix(env);
	const wanted = [['nix', tools.nix], ...(plan.install.method === 'nixos-anywhere' && !standIn ? [['nixos-anywhere', tools.nixosAnywhere] as const] : [])] as const;
	for (const [tool, found] of wanted) {
		findings.push(found ? {id: `tool:${tool}`, status: 'ok', message: `${tool} ${found.version} (${found.path})`} : {id: `tool:${tool}`, status: 'fail', message: `${tool} is not on the PATH`, fix: tool === 'nix' ? 'install Nix (https://nixos.org/download)' : 'nix profile install github:nix-community/nixos-anywhere'});
	}
	for (const flake of localFlakes(plan)) findings.push(await flakeFinding(flake));
	return findings;
}

async function commandFinding(command: string, env: NodeJS.ProcessEnv): Promise<Finding> {
	const found = path.isAbsolute(command) ? await fs.access(command, fsConstants.X_OK).then(() => command, () => undefined) : await onPath(command, env);
	return found
		? {id: 'tool:nixos-anywhere', status: 'ok', message: `nixos-anywhere: ${found} (install.nixosAnywhere.command)`}
		: {id: 'tool:nixos-anywhere', status: 'fail', message: `install.nixosAnywhere.command: ${command} is not there or not executable`, fix: 'give the path of a program that takes nixos-anywhere\'s arguments, or remove the setting to run nixos-anywhere'};
}

// The flakes a run builds from that sit in a local directory: boot.nixAttr's (nix build stage) and
// nixos-anywhere's. A flake ref with a scheme (github:, path:, git+https:) is not a local git tree.
function localFlakes(plan: Plan): string[] {
	const flakes = [plan.stages.includes('nix build') ? plan.boot.nixBuild?.flake : undefined, plan.install.method === 'nixos-anywhere' ? plan.install.flake : undefined];
	return [...new Set(flakes.filter((flake): flake is string => flake !== undefined && !/^[a-z][a-z0-9+.-]*:/i.test(flake)))];
}

// The T036 trap: a flake in a git tree is copied with only the files git tracks, so a file the flake
// reads but nobody added makes the build fail ("getting status of '.../<hash>-source/FILE'"), or
// leaves it out of what is installed. Untracked files are named before anything is built; whether
// the flake reads them only nix knows, so this warns.
async function flakeFinding(flake: string): Promise<Finding> {
	const git = await execa('git', ['-C', flake, 'status', '--porcelain', '--untracked-files=all'], {reject: false, timeout: 10_000});
	if (git.exitCode !== 0) return {id: `flake:${flake}`, status: 'warn', message: `the flake ${flake} is not in a git tree`, fix: 'flakes in git copy only tracked files; check the path in boot.nixAttr or install.nixosAnywhere.flake'};
	const untracked = git.stdout.split('\n').filter(line => line.startsWith('??')).map(line => line.slice(3));
	if (untracked.length === 0) return {id: `flake:${flake}`, status: 'ok', message: `flake ${flake}: no untracked files`};
	const named = `${untracked.slice(0, 5).join(', ')}${untracked.length > 5 ? ` and ${untracked.length - 5} more` : ''}`;
	return {
		id: `flake:${flake}`,
		status: 'warn',
		message: `flake ${flake}: git does not track ${named}; a flake build copies only tracked files, so the flake cannot read ${untracked.length === 1 ? 'it' : 'them'}`,
		fix: `git add ${untracked.length === 1 ? 'it' : 'the ones the flake reads'} (no commit needed), or list ${untracked.length === 1 ? 'it' : 'them'} in .gitignore`,
	};
}

async function earlierRunFinding(plan: Plan): Promise<Finding> {
	let state;
	try {
		state = await readState(plan.stateFile);
	} catch (error) {
		const problem = problemOf(error);
		// A run would refuse it too (it is never replaced): say so before anything is built.
		return {id: 'state', status: 'fail', message: problem.message, fix: problem.fix};
	}
	const live = await liveEntries(state);
	if (live.length > 0) return {id: 'state', status: 'warn', message: `an earlier run is still up (${live.map(e => e.node ?? e.kind).join(', ')})`, fix: '"plasma-tui up" attaches to it; "plasma-tui down" stops it'};
	if (state) return {id: 'state', status: 'ok', message: 'earlier run found, nothing of it is running'};
	return {id: 'state', status: 'ok', message: 'no earlier run'};
}

export async function runPreflight(plan: Plan, options: {probeKvm?: boolean; env?: NodeJS.ProcessEnv} = {}): Promise<Finding[]> {
	const env = options.env ?? process.env;
	const state = await readState(plan.stateFile).catch(() => undefined);
	const ownPorts = new Set<number>();
	for (const entry of await liveEntries(state)) for (const port of entry.ports) if (await isOurProcess(entry.pid, identityOf(entry))) ownPorts.add(port);
	const portErrors = await sshPortsInUse(plan.nodes, ownPorts);
	const tools = await toolFindings(env);
	const qemuMissing = tools.some(f => f.id === `tool:${QEMU_BINARY}` && f.status === 'fail');
	// The probe runs while the other findings are gathered (handled here: a failure of the others must not leave it unhandled).
	const accel = qemuMissing ? Promise.resolve([{id: 'accel', status: 'fail', message: 'no accelerator check without QEMU'} satisfies Finding]) : accelFindings(plan, options.probeKvm ?? true, env);
	void accel.catch(() => undefined);
	const [resources, bootFiles, nix, earlier] = await Promise.all([resourceFindings(plan), bootFileFindings(plan), nixFindings(plan, env), earlierRunFinding(plan)]);
	return [
		...tools,
		...(await accel),
		...resources,
		...(portErrors.length > 0
			? portErrors.map((e): Finding => ({id: `port:${e.field}`, status: 'fail', message: e.message, fix: e.fix}))
			: [{id: 'ports', status: 'ok', message: `SSH ports free: ${plan.nodes.map(n => n.sshPort).join(', ')}`} satisfies Finding]),
		...bootFiles,
		...nix,
		earlier,
	];
}

export function formatFinding(finding: Finding): string {
	return `${finding.status.padEnd(4)} ${describeFinding(finding)}`;
}

export function describeFinding(finding: Finding): string {
	return formatProblem(finding.status === 'ok' ? {message: finding.message} : {message: finding.message, fix: finding.fix});
}
