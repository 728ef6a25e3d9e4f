import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {toolPaths} from '../source/services/paths.js';
import {type CommandRecord, freePortBase, run} from './session-tools.js';

// The VM runs of the `flow` and `scale` suites, one after the other under the machine-wide VM lock:
//   flock /tmp/plasma-vm.lock node --import tsx bench/up-runs.ts OUT.json JOB...
// A JOB is `up:PROFILE_FILE` (`up --yes` of a copy of that profile in a fresh PLASMA_TUI_HOME, then
// `down --purge`) or `flow:NODES` (bench/boot-baseline.sh in flow mode: the same work by hand).
// During `up` the CLI's VmRSS is sampled every 200 ms, and each QEMU's VmRSS once `up` is done.

export type UpRun = {
	job: string;
	nodes: number;
	load: number[];
	record?: CommandRecord;
	down?: CommandRecord;
	// The CLI process's VmRSS in KiB, sampled while `up` ran.
	cliRssKiB: number[];
	// Each node's QEMU VmRSS in KiB when `up` had finished.
	qemuRssKiB: number[];
	memoryMiB?: number;
	error?: string;
};

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, '..', 'dist', 'cli.js');
const BASELINE = path.join(here, 'boot-baseline.sh');

async function vmRssKiB(pid: number): Promise<number | undefined> {
	const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
	const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
	return kib === undefined ? undefined : Number(kib);
}

// QEMU renames itself (`-name NODE,process=plasma-tui:PROFILE:NODE`): find the cluster's by that name.
async function qemuRss(profileName: string): Promise<number[]> {
	const found = await execa('pgrep', ['-f', `process=plasma-tui:${profileName}:`], {reject: false});
	const pids = found.stdout.split('\n').filter(Boolean).map(Number);
	return (await Promise.all(pids.map(vmRssKiB))).filter((v): v is number => v !== undefined);
}

async function upJob(profileFile: string, job: string): Promise<UpRun> {
	const home = await fs.mkdtemp(path.join(os.tmpdir(), 'pb-'));
	const profile = JSON.parse(await fs.readFile(profileFile, 'utf8')) as {name: string; nodes: unknown[]; defaults: {memoryMiB: number}; network: {sshPortBase: number}};
	const result: UpRun = {job, nodes: profile.nodes.length, load: os.loadavg(), cliRssKiB: [], qemuRssKiB: [], memoryMiB: profile.defaults.memoryMiB};
	profile.name = `bench-${process.pid}-${profile.nodes.length}`;
	profile.network.sshPortBase = await freePortBase(profile.nodes.length);
	const copy = path.join(home, 'bench-profile.json');
	await fs.writeFile(copy, `${JSON.stringify(profile, null, 2)}\n`);
	const imageDir = toolPaths({...process.env, PLASMA_TUI_HOME: undefined}).imageDir;
	const env: NodeJS.ProcessEnv = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: imageDir, FORCE_COLOR: '0'};
	const progress = (text: string) => process.stderr.write(`bench: ${job}: ${text}\n`);
	let sampler: NodeJS.Timeout | undefined;
	try {
		progress(`up (${result.nodes} nodes, home ${home})`);
		result.record = await run(process.execPath, [BIN, 'up', '--profile-file', copy, '--yes'], {
			env,
			timeoutMs: 30 * 60_000,
			onStart: pid => {
				sampler = setInterval(() => void vmRssKiB(pid).then(kib => kib !== undefined && result.cliRssKiB.push(kib)), 200);
			},
			onLine: line => (/^\[[a-z ]+\] (done|failed)/.test(line) ? progress(line.slice(0, 160)) : undefined),
		});
		clearInterval(sampler);
		result.qemuRssKiB = await qemuRss(profile.name);
	} catch (error) {
		result.error = error instanceof Error ? error.message : String(error);
	} finally {
		clearInterval(sampler);
		progress('down --purge');
		result.down = await run(process.execPath, [BIN, 'down', '--profile-file', copy, '--purge', '--yes'], {env, timeoutMs: 5 * 60_000}).catch(() => undefined);
		await fs.rm(home, {recursive: true, force: true});
	}
	return result;
}

async function flowJob(nodes: number, job: string): Promise<UpRun> {
	const imageDir = toolPaths({...process.env, PLASMA_TUI_HOME: undefined}).imageDir;
	const result: UpRun = {job, nodes, load: os.loadavg(), cliRssKiB: [], qemuRssKiB: []};
	const base = await freePortBase(nodes);
	process.stderr.write(`bench: ${job}: boot-baseline.sh flow (${nodes} nodes, ports ${base}-${base + nodes - 1})\n`);
	result.record = await run('bash', [BASELINE, imageDir, String(base), String(nodes), 'tcg', 'flow'], {timeoutMs: 15 * 60_000});
	return result;
}

async function main(outFile: string, jobs: string[]): Promise<void> {
	const lockedAt = Date.now();
	const runs: UpRun[] = [];
	for (const job of jobs) {
		const [kind, arg] = [job.slice(0, job.indexOf(':')), job.slice(job.indexOf(':') + 1)];
		runs.push(kind === 'flow' ? await flowJob(Number(arg), job) : await upJob(path.resolve(arg), job));
		await fs.writeFile(outFile, `${JSON.stringify({lockedAt, runs}, null, 2)}\n`);
	}
}

const [outFile, ...jobs] = process.argv.slice(2);
if (!outFile || jobs.length === 0) {
	console.error('usage: flock /tmp/plasma-vm.lock node --import tsx bench/up-runs.ts OUT.json up:PROFILE|flow:NODES ...');
	process.exitCode = 2;
} else {
	main(outFile, jobs).catch((error: unknown) => {
		console.error(error);
		process.exitCode = 1;
	});
}
