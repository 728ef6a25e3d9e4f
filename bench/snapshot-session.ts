import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {toolPaths} from '../source/services/paths.js';

// The VM part of the snapshot benchmark, run by bench/snapshot.ts as
// `flock /tmp/plasma-vm.lock node --import tsx bench/snapshot-session.ts OUT.json`:
// the demo profile up from nothing, `snapshot save`, `snapshot restore` (to all
// checks green; twice as by default, once with --rollback, the copy set aside first), the snapshot's size on disk, `down` + `up --from-snapshot`, then
// `down --purge`. Each command's wall time and output are recorded; bench/snapshot.ts
// reads the numbers the commands print.

export type Step = {command: string; exitCode: number | undefined; seconds: number; output: string};
export type SnapshotSession = {lockedAt: number; steps: Record<string, Step>; diskBytes?: {before: number; after: number}; listJson?: string; error?: string};

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, '..', 'dist', 'cli.js');

async function step(args: string[], env: NodeJS.ProcessEnv): Promise<Step> {
	const started = performance.now();
	const result = await execa(process.execPath, [BIN, ...args], {env, reject: false, timeout: 20 * 60_000, all: true, stdin: 'ignore'});
	return {command: args.join(' '), exitCode: result.exitCode, seconds: (performance.now() - started) / 1000, output: String(result.all ?? '').slice(-20_000)};
}

async function diskBytes(workDir: string): Promise<number> {
	const nodes = await fs.readdir(path.join(workDir, 'nodes')).catch(() => [] as string[]);
	let total = 0;
	for (const node of nodes) {
		const stat = await fs.stat(path.join(workDir, 'nodes', node, 'disk.qcow2')).catch(() => undefined);
		total += stat ? stat.blocks * 512 : 0;
	}
	return total;
}

async function main(outFile: string): Promise<void> {
	const session: SnapshotSession = {lockedAt: Date.now(), steps: {}};
	const home = await fs.mkdtemp(path.join(os.tmpdir(), 'pbs-'));
	const envForPaths = {...process.env};
	delete envForPaths['PLASMA_TUI_HOME'];
	const env: NodeJS.ProcessEnv = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: toolPaths(envForPaths).imageDir, FORCE_COLOR: '0'};
	const profileFile = path.join(home, 'bench-snapshot.json');
	const workDir = path.join(home, 'w');
	const progress = (text: string) => process.stderr.write(`bench: snapshot: ${text}\n`);
	try {
		const demo = JSON.parse(await fs.readFile(path.join(here, '..', 'profiles', 'demo.json'), 'utf8')) as {name: string; workDir?: string; network: {sshPortBase: number}};
		demo.name = `bench-snap-${process.pid}`;
		demo.workDir = workDir;
		demo.network.sshPortBase = 31_000 + Math.floor(Math.random() * 20_000);
		await fs.writeFile(profileFile, `${JSON.stringify(demo, null, 2)}\n`);
		const p = ['--profile-file', profileFile];
		const run = async (name: string, args: string[]) => {
			progress(args.join(' '));
			session.steps[name] = await step([...args, ...p], env);
			if (session.steps[name]!.exitCode !== 0) throw new Error(`${args.join(' ')} exited ${session.steps[name]!.exitCode}: ${session.steps[name]!.output.slice(-600)}`);
		};
		await run('up', ['up', '--yes']);
		const before = await diskBytes(workDir);
		await run('save', ['snapshot', 'save', 's1']);
		session.diskBytes = {before, after: await diskBytes(workDir)};
		session.listJson = (await step(['snapshot', 'list', '--json', ...p], env)).output;
		await run('restore', ['snapshot', 'restore', 's1']);
		await run('restoreAgain', ['snapshot', 'restore', 's1']);
		await run('restoreRollback', ['snapshot', 'restore', 's1', '--rollback']);
		await run('restoreFull', ['snapshot', 'restore', 's1', '--full']);
		await run('down', ['down']);
		await run('upFromSnapshot', ['up', '--from-snapshot', 's1', '--yes']);
	} catch (error) {
		session.error = error instanceof Error ? error.message : String(error);
	} finally {
		progress('down --purge');
		session.steps['purge'] = await step(['down', '--purge', '--yes', '--profile-file', profileFile], env);
		await fs.writeFile(outFile, `${JSON.stringify(session, null, 2)}\n`);
		await fs.rm(home, {recursive: true, force: true});
	}
}

const outFile = process.argv[2];
if (!outFile) {
	console.error('usage: flock /tmp/plasma-vm.lock node --import tsx bench/snapshot-session.ts OUT.json');
	process.exitCode = 2;
} else {
	main(outFile).catch((error: unknown) => {
		console.error(error);
		process.exitCode = 1;
	});
}
