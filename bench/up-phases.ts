import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {type BenchRow, failed, median, round, row, skipped} from './result.js';
import type {CommandRecord, TimedLine, VmSessionResult} from './vm-session.js';

// `up --profile demo --yes`, phase by phase, from the plain lines it prints
// (timed as they arrive), and its boot against bench/boot-baseline.sh.
// The VMs are booted by bench/vm-session.ts under the machine-wide VM lock.

const SESSION = fileURLToPath(new URL('vm-session.ts', import.meta.url));
const VM_LOCK = '/tmp/plasma-vm.lock';
const NODES = ['node01', 'node02', 'node03'];
const GROUP = 'up --profile demo';

export function at(lines: TimedLine[], pattern: RegExp, which: 'first' | 'last' = 'first'): number | undefined {
	const hits = lines.filter(l => pattern.test(l.line));
	return (which === 'first' ? hits[0] : hits.at(-1))?.ms;
}

export function span(lines: TimedLine[], start: RegExp, end: RegExp): number | undefined {
	const a = at(lines, start);
	const b = at(lines, end);
	return a !== undefined && b !== undefined ? (b - a) / 1000 : undefined;
}

const s = (value: number | undefined) => (value === undefined ? null : round(value, 1));

// Option names in order (`-netdev`, `-device`, ...): the baseline must launch nodes the same way.
function optionNames(args: string[]): string[] {
	return args.filter(a => a.startsWith('-'));
}

export function upRows(session: VmSessionResult): BenchRow[] {
	const rows: BenchRow[] = [];
	const up = session.up;
	if (!up) return [failed(GROUP, 'up', session.error ?? 'did not run')];
	const lines = up.lines;
	const stage = (name: string) => span(lines, new RegExp(`^\\[${name}\\] start`), new RegExp(`^\\[${name}\\] (done|failed)`));
	rows.push(row(GROUP, 'preflight', s(stage('preflight')), 's', {goal: {max: 1, text: '< 1 s'}, note: 'fresh PLASMA_TUI_HOME; the KVM probe runs alongside image and certificates'}));
	rows.push(row(GROUP, 'image', s(stage('image')), 's', {note: session.imageCachedBefore ? 'cached image: stamp check only' : 'image built in this run'}));
	rows.push(row(GROUP, 'certificates (+ SSH keys, artifacts)', s(stage('certificates')), 's', {note: 'runs alongside the image stage'}));
	const bootStart = at(lines, /^\[boot\] start/);
	const ready = NODES.map(node => at(lines, new RegExp(`^${node}: ssh-ready`)));
	NODES.forEach((node, index) => {
		const value = bootStart !== undefined && ready[index] !== undefined ? (ready[index]! - bootStart) / 1000 : undefined;
		rows.push(row(GROUP, `boot to ssh-ready: ${node}`, s(value), 's'));
	});
	const allReady = bootStart !== undefined && ready.every(r => r !== undefined) ? (Math.max(...(ready as number[])) - bootStart) / 1000 : undefined;
	rows.push(row(GROUP, 'boot to all ssh-ready', s(allReady), 's', {note: 'from "[boot] start": switch, disks, QEMU, SSH'}));
	const installs = NODES.map(node => span(lines, new RegExp(`^${node}: installing`), new RegExp(`^${node}: (installed|failed)`)));
	const installStart = at(lines, /^node\d+: installing/);
	const installEnd = at(lines, /^node\d+: installed/, 'last');
	const installAll = installStart !== undefined && installEnd !== undefined ? (installEnd - installStart) / 1000 : undefined;
	rows.push(row(GROUP, 'install (first start to last done)', s(installAll), 's', {note: `per node: ${installs.map((v, i) => `${NODES[i]} ${v === undefined ? '-' : round(v, 1)}`).join(', ')}`}));
	rows.push(row(GROUP, 'validate', s(stage('validate')), 's', {note: lines.find(l => /^\[validate\] (done|failed)/.test(l.line))?.line.replace(/; report .*/, '').slice(0, 80)}));
	rows.push(...validateRows(session));
	const total = row(GROUP, 'total: up until it exits', round(up.totalMs / 1000, 1), 's', {note: `exit code ${up.exitCode}`});
	if (up.exitCode !== 0) total.status = 'error';
	rows.push(total);
	// Next to up: the same cluster stopped (ACPI power-off) and started again from its disks (no install, validate).
	if (session.stop) rows.push(row(GROUP, 'stop (every node powered down)', round(session.stop.totalMs / 1000, 1), 's', {note: `exit code ${session.stop.exitCode}; machine shared with other runs: noisy`}));
	if (session.start) rows.push(row(GROUP, 'start (from the disks, validated)', round(session.start.totalMs / 1000, 1), 's', {note: `exit code ${session.start.exitCode}; compare with "total: up until it exits"`}));
	if (session.down) rows.push(row(GROUP, 'down --purge', round(session.down.totalMs / 1000, 1), 's', {note: `exit code ${session.down.exitCode}`}));

	const base = session.baseline;
	if (!base) {
		rows.push(failed(GROUP, 'boot-baseline.sh', session.error ?? 'did not run'));
		return rows;
	}
	const baseReady = base.lines.find(l => l.line.startsWith('all-ssh-ready '))?.line.split(' ')[1];
	const baseValue = baseReady === undefined ? undefined : Number(baseReady);
	const perNode = base.lines.filter(l => l.line.startsWith('ssh-ready ')).map(l => l.line.slice('ssh-ready '.length));
	const scriptArgs = argsFromBaseline(base);
	const same = scriptArgs.length > 0 && optionNames(scriptArgs).join(' ') === optionNames(session.planArgs).join(' ');
	rows.push(row(GROUP, `boot-baseline.sh: all ssh-ready (${session.accel.toUpperCase()})`, s(baseValue), 's', {note: `${perNode.join(', ')}; QEMU options ${same ? 'match the plan' : 'DIFFER from the plan'}`}));
	if (allReady !== undefined && baseValue !== undefined) {
		rows.push(row(GROUP, 'tool boot / baseline boot', round(allReady / baseValue, 2), 'x', {goal: {max: 1, text: '<= 1.0x'}}));
	}
	return rows;
}

// The validate stage's wall time next to the sum of its checks' times (they overlap, pipelined per node),
// up again on the validated cluster, and what a check would cost with a handshake of its own.
export function validateRows(session: VmSessionResult): BenchRow[] {
	const rows: BenchRow[] = [];
	const done = session.up?.lines.find(l => /^\[validate\] done: .* in [\d.]+ s wall for [\d.]+ s of checks/.test(l.line))?.line;
	const [, wall, sum] = done ? /in ([\d.]+) s wall for ([\d.]+) s of checks/.exec(done)! : [];
	rows.push(row(GROUP, 'validate: wall time (sum of check times in note)', wall === undefined ? null : Number(wall), 's', {note: wall === undefined ? 'no "[validate] done" line with its times' : `sum of check times ${sum} s: ${round(Number(sum) / Number(wall), 1)}x overlap`}));
	const reruns = session.rerun ?? [];
	if (reruns.length > 0) {
		const times = reruns.map(r => round(r.totalMs / 1000, 2));
		const skippedBoot = reruns.every(r => r.exitCode === 0 && r.lines.some(l => /^up again: preflight, boot and install skipped/.test(l.line)));
		const value = row(GROUP, 'up again on a validated cluster', median(times), 's', {goal: {max: 3, text: '< 3 s'}, samples: times, note: `median of ${times.length} (${times.join(', ')}); node-local checks only${skippedBoot ? '' : '; DID NOT skip boot'}; machine shared: noisy`});
		if (!skippedBoot) value.status = 'error';
		rows.push(value);
	}
	if (session.rerunFull) rows.push(row(GROUP, 'up again --full (every check)', round(session.rerunFull.totalMs / 1000, 1), 's', {note: `exit code ${session.rerunFull.exitCode}`}));
	const costs = (name: string) => session.sshCost?.lines.find(l => l.line.startsWith(`${name} `))?.line.split(' ').slice(1).map(Number) ?? [];
	const handshake = costs('handshake-ms');
	const exec = costs('exec-ms');
	if (handshake.length > 0 && exec.length > 0) {
		rows.push(row(GROUP, 'one check with its own SSH handshake', median(handshake), 'ms', {samples: handshake, note: 'connect + exec "true" + close, node01 (what a handshake per check would cost)'}));
		rows.push(row(GROUP, 'one check on the kept session', median(exec), 'ms', {samples: exec, note: 'exec "true" on the one session per node a validation keeps'}));
	}
	return rows;
}

function argsFromBaseline(base: CommandRecord): string[] {
	const start = base.lines.findIndex(l => l.line.startsWith('qemu-args '));
	if (start < 0) return [];
	const args: string[] = [];
	for (const l of base.lines.slice(start + 1)) {
		if (!l.line.startsWith('  ')) break;
		args.push(l.line.slice(2));
	}
	return args;
}

export async function benchUp(): Promise<{rows: BenchRow[]; details: unknown}> {
	const which = await execa('flock', ['--version'], {reject: false});
	if (which.exitCode !== 0) return {rows: [skipped(GROUP, 'up', 'flock is missing (util-linux): VM runs must take /tmp/plasma-vm.lock')], details: {}};
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-up-'));
	const out = path.join(dir, 'session.json');
	const spawned = Date.now();
	try {
		process.stderr.write(`bench: up: waiting for ${VM_LOCK} (other sessions' VM runs go first)\n`);
		const result = await execa('flock', [VM_LOCK, process.execPath, '--import', 'tsx', SESSION, out], {reject: false, timeout: 60 * 60_000, stdout: 'inherit', stderr: 'inherit'});
		const session = JSON.parse(await fs.readFile(out, 'utf8').catch(() => '{}')) as VmSessionResult;
		if (!session.lockedAt) return {rows: [failed(GROUP, 'up', `vm-session exited ${result.exitCode} without a result`)], details: {}};
		const rows = upRows(session);
		if (session.error) rows.push(failed(GROUP, 'vm session', session.error));
		const lockWaitS = round((session.lockedAt - spawned) / 1000, 1);
		return {rows, details: {lockWaitS, ports: session.ports, accel: session.accel, imageDir: session.imageDir, upLines: summariseLines(session.up?.lines ?? []), baselineLines: session.baseline?.lines.filter(l => !l.line.startsWith('  ')), upStderr: session.up?.stderr, downLines: session.down?.lines}};
	} catch (error) {
		return {rows: [failed(GROUP, 'up', error)], details: {}};
	} finally {
		await fs.rm(dir, {recursive: true, force: true});
	}
}

// Stage and phase lines with their times; console and check chatter left out.
function summariseLines(lines: TimedLine[]): Array<{s: number; line: string}> {
	return lines.filter(l => !/^node\d+: \|/.test(l.line) && !/^node\d+: > /.test(l.line) && !/waiting for/.test(l.line)).map(l => ({s: round(l.ms / 1000, 2), line: l.line.slice(0, 200)}));
}
