import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {toolPaths} from '../source/services/paths.js';
import {type CommandRecord, freePortBase, run} from './session-tools.js';

// The part of the `up` benchmark that boots VMs. bench/up-phases.ts runs it as
// `flock /tmp/plasma-vm.lock node --import tsx bench/vm-session.ts OUT.json`,
// so the lock is held for both boots and the teardowns, and nothing else on
// the machine boots VMs meanwhile. It records raw, timestamped output; the
// parsing and the table are up-phases.ts's job.
// 1. `plasma-tui up --profile-file <copy of demo> --yes` in a temp PLASMA_TUI_HOME, `up` again (and `--full`), `stop`, `start`, then `down --purge`.
// 2. bench/boot-baseline.sh on the same image with the accelerator the tool chose.

export type {CommandRecord, TimedLine} from './session-tools.js';
export type VmSessionResult = {
	lockedAt: number;
	imageDir: string;
	imageCachedBefore: boolean;
	ports: {tool: number; baseline: number};
	accel: string;
	planArgs: string[];
	up?: CommandRecord;
	down?: CommandRecord;
	// `up` again on the validated cluster (3 samples), then `up --full`, then one check's SSH cost (bench/ssh-cost.ts).
	rerun?: CommandRecord[];
	rerunFull?: CommandRecord;
	sshCost?: CommandRecord;
	// `stop` then `start` of the cluster `up` left running (installed disks, no install, validate).
	stop?: CommandRecord;
	start?: CommandRecord;
	baseline?: CommandRecord;
	error?: string;
};

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const BIN = path.join(root, 'dist', 'cli.js');
const BASELINE = path.join(here, 'boot-baseline.sh');
const NODES = 3;

async function main(outFile: string): Promise<void> {
	const lockedAt = Date.now();
	const progress = (text: string) => process.stderr.write(`bench: up: ${text}\n`);
	const home = await fs.mkdtemp(path.join(os.tmpdir(), 'pb-'));
	const envForPaths = {...process.env};
	delete envForPaths['PLASMA_TUI_HOME'];
	const imageDir = toolPaths(envForPaths).imageDir;
	const imageCachedBefore = await fs.access(path.join(imageDir, 'vmlinuz')).then(
		() => true,
		() => false,
	);
	const toolBase = await freePortBase(NODES);
	const baselineBase = await freePortBase(NODES, Array.from({length: NODES}, (_, i) => toolBase + i));
	const result: VmSessionResult = {lockedAt, imageDir, imageCachedBefore, ports: {tool: toolBase, baseline: baselineBase}, accel: 'tcg', planArgs: []};
	const env: NodeJS.ProcessEnv = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: imageDir, FORCE_COLOR: '0'};
	const profileFile = path.join(home, 'bench-profile.json');
	try {
		const demo = JSON.parse(await fs.readFile(path.join(root, 'profiles', 'demo.json'), 'utf8')) as {name: string; network: {sshPortBase: number}};
		demo.name = `bench-${process.pid}`;
		demo.network.sshPortBase = toolBase;
		await fs.writeFile(profileFile, `${JSON.stringify(demo, null, 2)}\n`);
		const plan = await execa(process.execPath, [BIN, 'plan', '--profile-file', profileFile, '--json'], {env, timeout: 30_000});
		result.planArgs = (JSON.parse(plan.stdout) as {nodes: Array<{qemuArgs: string[]}>}).nodes[0]?.qemuArgs ?? [];

		progress(`plasma-tui up (${NODES} nodes, ports ${toolBase}-${toolBase + NODES - 1}, home ${home})`);
		result.up = await run(process.execPath, [BIN, 'up', '--profile-file', profileFile, '--yes'], {
			env,
			timeoutMs: 20 * 60_000,
			onLine: line => {
				if (/^\[[a-z ]+\] /.test(line) || /^node\d+: (ssh-ready|installed|healthy|failed)/.test(line)) progress(line.slice(0, 160));
			},
		});
		const accel = result.up.lines.map(l => /accelerator (KVM|TCG)\b/.exec(l.line)?.[1]).find(Boolean);
		if (accel) result.accel = accel.toLowerCase();
		if (result.up.exitCode === 0) {
			progress('plasma-tui up again on the validated cluster (3 samples), then up --full');
			result.rerun = [];
			for (let sample = 0; sample < 3; sample++) result.rerun.push(await run(process.execPath, [BIN, 'up', '--profile-file', profileFile, '--yes'], {env, timeoutMs: 5 * 60_000}));
			result.rerunFull = await run(process.execPath, [BIN, 'up', '--profile-file', profileFile, '--yes', '--full'], {env, timeoutMs: 10 * 60_000});
			result.sshCost = await run(process.execPath, ['--import', 'tsx', path.join(here, 'ssh-cost.ts'), profileFile], {env, timeoutMs: 5 * 60_000});
			progress('plasma-tui stop');
			result.stop = await run(process.execPath, [BIN, 'stop', '--profile-file', profileFile], {env, timeoutMs: 5 * 60_000});
			progress('plasma-tui start');
			result.start = await run(process.execPath, [BIN, 'start', '--profile-file', profileFile], {env, timeoutMs: 20 * 60_000});
		}
	} catch (error) {
		result.error = error instanceof Error ? error.message : String(error);
	} finally {
		progress('plasma-tui down --purge');
		result.down = await run(process.execPath, [BIN, 'down', '--profile-file', profileFile, '--purge', '--yes'], {env, timeoutMs: 5 * 60_000}).catch((error: unknown) => {
			result.error = `${result.error ?? ''} down: ${String(error)}`.trim();
			return undefined;
		});
	}
	if (!result.error) {
		progress(`boot-baseline.sh (${result.accel}, ports ${baselineBase}-${baselineBase + NODES - 1})`);
		result.baseline = await run('bash', [BASELINE, imageDir, String(baselineBase), String(NODES), result.accel], {timeoutMs: 10 * 60_000, onLine: line => (line.startsWith(' ') ? undefined : progress(`baseline: ${line}`))});
	}
	await fs.writeFile(outFile, `${JSON.stringify(result, null, 2)}\n`);
	await fs.rm(home, {recursive: true, force: true});
}

const outFile = process.argv[2];
if (!outFile) {
	console.error('usage: flock /tmp/plasma-vm.lock node --import tsx bench/vm-session.ts OUT.json');
	process.exitCode = 2;
} else {
	main(outFile).catch((error: unknown) => {
		console.error(error);
		process.exitCode = 1;
	});
}
