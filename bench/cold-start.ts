import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {type BenchRow, failed, median, round, row} from './result.js';

// Wall time of the built binary: `--help` (must not load Ink, React or the
// certificate library) and the first frame of the wizard in a real terminal.

// PLASMA_BENCH_BIN compares another build of the binary (e.g. a bundled one).
const BIN = process.env['PLASMA_BENCH_BIN'] ?? fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const FIRST_FRAME_TEXT = 'Template:';
const RUNS = 10;

async function wallMs(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
	const started = performance.now();
	await execa(command, args, {timeout: 10_000, env, stdout: 'ignore'});
	return performance.now() - started;
}

async function repeat(runs: number, measure: () => Promise<number>): Promise<number[]> {
	await measure(); // warm the page cache; not counted
	const samples: number[] = [];
	for (let i = 0; i < runs; i++) samples.push(await measure());
	return samples;
}

// Terminal escapes would split the text we look for.
function visibleText(raw: string): string {
	return raw.replace(/\u001B\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\u001B[@-_][0-9;]*/g, '');
}

function signal(pid: number, name: NodeJS.Signals): void {
	try {
		process.kill(pid, name);
	} catch {
		// already gone
	}
}

function shellQuote(word: string): string {
	return `'${word.replaceAll("'", "'\\''")}'`;
}

// `script` gives the binary a pseudo-terminal (so Ink draws as for a person)
// and streams what it draws to us as it comes: the first frame is the first
// moment the wizard's text has been written. The pty is sized like a normal
// terminal (script's own pty starts at 0x0 when our stdin is not a terminal).
export async function firstFrameMs(home: string, bin = BIN): Promise<{frameMs: number; firstByteMs: number}> {
	const env: NodeJS.ProcessEnv = {...process.env, PLASMA_TUI_HOME: home, TERM: 'xterm-256color', FORCE_COLOR: '1'};
	delete env['CI'];
	delete env['CONTINUOUS_INTEGRATION'];
	const pidfile = path.join(home, 'wizard.pid');
	// $$ becomes the wizard's PID once exec replaces the shell: it runs in the pty's own session, so we stop it by that PID.
	const inner = `stty cols 120 rows 40 2>/dev/null; echo $$ > ${shellQuote(pidfile)}; exec ${shellQuote(process.execPath)} ${shellQuote(bin)}`;
	const started = performance.now();
	const child = execa('script', ['-qfc', inner, '/dev/null'], {env, stdin: 'pipe', reject: false, timeout: 15_000, extendEnv: false});
	let text = '';
	let firstByteMs = -1;
	try {
		const frameMs = await new Promise<number>((resolve, reject) => {
			child.stdout!.on('data', (chunk: Buffer) => {
				if (firstByteMs < 0) firstByteMs = performance.now() - started;
				text += chunk.toString('utf8');
				if (visibleText(text).includes(FIRST_FRAME_TEXT)) resolve(performance.now() - started);
			});
			void child.then(result => reject(new Error(`the wizard exited (code ${result.exitCode}) before drawing "${FIRST_FRAME_TEXT}"; it wrote: ${visibleText(text).slice(-300)}`)));
		});
		return {frameMs, firstByteMs};
	} finally {
		// The wizard leaves on SIGTERM (it restores the terminal); script then ends with it.
		const wizardPid = Number(await fs.readFile(pidfile, 'utf8').catch(() => '0'));
		if (wizardPid > 0) signal(wizardPid, 'SIGTERM');
		const stopped = await Promise.race([child.then(() => true), new Promise<boolean>(resolve => setTimeout(() => resolve(false), 3000))]);
		if (!stopped) {
			if (wizardPid > 0) signal(wizardPid, 'SIGKILL');
			if (child.pid) signal(child.pid, 'SIGKILL');
			await child;
		}
		await fs.rm(pidfile, {force: true});
	}
}

export async function benchColdStart(): Promise<{rows: BenchRow[]; details: unknown}> {
	const rows: BenchRow[] = [];
	const details: Record<string, number[]> = {};
	try {
		const nodeBare = await repeat(RUNS, () => wallMs(process.execPath, ['-e', '0']));
		const help = await repeat(RUNS, () => wallMs(process.execPath, [BIN, '--help']));
		details['node -e 0'] = nodeBare.map(v => round(v));
		details['--help'] = help.map(v => round(v));
		rows.push(row('cold start', `plasma-tui --help (median of ${RUNS})`, round(median(help)), 'ms', {goal: {max: 150, text: '< 150 ms'}, samples: details['--help'], note: `node -e 0 alone: ${round(median(nodeBare))} ms`}));
	} catch (error) {
		rows.push(failed('cold start', 'plasma-tui --help', error));
	}
	const home = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-tui-'));
	try {
		const samples: Array<{frameMs: number; firstByteMs: number}> = [];
		// A fresh home each time: no saved draft, so the wizard opens on the profile screen.
		const freshHome = () => fs.mkdtemp(path.join(home, 'run-'));
		await firstFrameMs(await freshHome()); // not counted: warms the page cache
		for (let i = 0; i < RUNS; i++) samples.push(await firstFrameMs(await freshHome()));
		const frames = samples.map(s => round(s.frameMs));
		details['first frame'] = frames;
		details['first byte'] = samples.map(s => round(s.firstByteMs));
		rows.push(
			row('cold start', `wizard first frame, "${FIRST_FRAME_TEXT}" on a pty (median of ${RUNS})`, round(median(frames)), 'ms', {
				goal: {max: 400, text: '< 400 ms'},
				samples: frames,
				note: `first byte (alternate screen) after ${round(median(samples.map(s => s.firstByteMs)))} ms`,
			}),
		);
	} catch (error) {
		rows.push(failed('cold start', 'wizard first frame', error));
	} finally {
		await fs.rm(home, {recursive: true, force: true});
	}
	return {rows, details};
}
