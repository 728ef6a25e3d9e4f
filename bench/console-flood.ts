import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {EventEmitter} from 'node:events';
import {Writable} from 'node:stream';
import {monitorEventLoopDelay, performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {createElement} from 'react';
import {tailFile} from '../source/services/console-tail.js';
import {loadTemplate} from '../source/services/profiles.js';
import type {RunServices} from '../source/hooks/run-services.js';
import {withoutCiFlag} from '../source/tui/without-ci-flag.js';
import {type BenchRow, failed, round, row} from './result.js';

// Console flood: three nodes each write 2 MiB/s to their serial console log
// for 20 s while the run screen shows every console at once. Measured in this
// process: event-loop delay (p50/p99/max), frames drawn per second, Ink's time
// per frame, RSS.
//
// Path driven, through the public API the TUI uses: RunApp (source/run-app.tsx)
// with a RunServices whose startRun follows three growing files with
// console-tail, as engine/boot.ts follows QEMU's console logfiles, and emits
// one `console` RunEvent per line, as the engine does. useRun folds them into
// the run view's ring buffers on its tick; the bench presses "c" so the
// ConsoleView (split panes, one per node) is what gets drawn.

const WRITER = fileURLToPath(new URL('flood-writer.mjs', import.meta.url));
const BYTES_PER_SECOND = 2 * 1024 * 1024;
const SECONDS = 20;
const COLUMNS = 120;
const ROWS = 40;
const TAIL_INTERVAL_MS = 100;

// A terminal that keeps only the last frame Ink wrote to it.
class CountingTerminal extends Writable {
	columns = COLUMNS;
	rows = ROWS;
	isTTY = true;
	writes = 0;
	bytes = 0;
	last = '';

	override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
		this.writes++;
		const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
		this.bytes += Buffer.byteLength(text);
		// Ink writes a frame and then cursor escapes: keep the frame.
		if (text.length > 200) this.last = text;
		callback();
	}
}

// A keyboard the bench types on (the shape ink-testing-library uses): raw mode is "supported", so keys reach useInput.
class FakeKeyboard extends EventEmitter {
	isTTY = true;
	#data: string | null = null;
	type(data: string): void {
		this.#data = data;
		this.emit('readable');
		this.emit('data', data);
	}
	read = (): string | null => {
		const data = this.#data;
		this.#data = null;
		return data;
	};
	setEncoding(): void {}
	setRawMode(): void {}
	resume(): void {}
	pause(): void {}
	ref(): void {}
	unref(): void {}
}

// Both ends are measured after a full collection when node runs with --expose-gc (npm run bench does).
function collectGarbage(): boolean {
	const gc = (globalThis as {gc?: () => void}).gc;
	gc?.();
	return gc !== undefined;
}

const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
const visible = (text: string) => text.replace(/\u001B\[[0-9;?]*[ -/]*[@-~]/g, '');

function percentile(values: number[], p: number): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function benchConsoleFlood(): Promise<{rows: BenchRow[]; details: unknown}> {
	const template = loadTemplate('demo');
	if (!template.ok) return {rows: [failed('console flood', 'console flood', 'the demo template does not parse')], details: {}};
	const profile = template.profile;
	const nodeNames = profile.nodes.map(n => n.name);
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-flood-'));
	const files = nodeNames.map(node => path.join(dir, `${node}.console.log`));
	await Promise.all(files.map(file => fs.writeFile(file, '')));
	const ingested = {lines: 0, chars: 0};
	const tails: Array<ReturnType<typeof tailFile>> = [];
	let finishRun: () => void = () => undefined;
	const runOver = new Promise<void>(resolve => (finishRun = resolve));
	// What `up` would do for the run screen, minus the VMs: the consoles are files that grow.
	const services: RunServices = {
		startRun: async (_profile, {onEvent}) => {
			onEvent({type: 'stage', stage: 'boot', status: 'start', at: Date.now()});
			files.forEach((file, index) => {
				const node = nodeNames[index]!;
				onEvent({type: 'node-phase', node, phase: 'console', at: Date.now()});
				tails.push(
					tailFile(file, {
						intervalMs: TAIL_INTERVAL_MS,
						stallMs: 60_000,
						onLines: lines => {
							for (const line of lines) {
								ingested.lines++;
								ingested.chars += line.length + 1;
								onEvent({type: 'console', node, line, at: Date.now()});
							}
						},
					}),
				);
			});
			await runOver;
			return {exitCode: 0};
		},
	};
	const terminal = new CountingTerminal();
	const keyboard = new FakeKeyboard();
	const renderTimes: number[] = [];
	let measuring = false;
	const {render} = await withoutCiFlag(() => import('ink'));
	const {RunApp} = await import('../source/run-app.js');
	const instance = render(createElement(RunApp, {profile, services, onExit: () => undefined}), {
		stdout: terminal as unknown as NodeJS.WriteStream,
		stdin: keyboard as unknown as NodeJS.ReadStream,
		// The options source/tui/open-tui.tsx renders with.
		maxFps: 20,
		incrementalRendering: false,
		patchConsole: false,
		exitOnCtrlC: false,
		onRender: ({renderTime}) => {
			if (measuring) renderTimes.push(renderTime);
		},
	});
	const rss: number[] = [];
	const delay = monitorEventLoopDelay({resolution: 10});
	try {
		await new Promise(resolve => setTimeout(resolve, 300));
		keyboard.type('c');
		await new Promise(resolve => setTimeout(resolve, 300));
		const consoleShown = /node01 · \d+ lines/.test(visible(terminal.last));
		collectGarbage();
		const heapStart = process.memoryUsage().heapUsed;
		const rssStart = process.memoryUsage().rss;
		rss.push(rssStart);
		const writer = execa(process.execPath, [WRITER, String(BYTES_PER_SECOND), String(SECONDS), ...files], {timeout: (SECONDS + 30) * 1000});
		const writesBefore = terminal.writes;
		measuring = true;
		delay.enable();
		const started = performance.now();
		const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 500);
		const {stdout} = await writer;
		// Let the tails and the view catch up with what the writer wrote last.
		await new Promise(resolve => setTimeout(resolve, 3 * TAIL_INTERVAL_MS));
		clearInterval(sampler);
		const elapsedS = (performance.now() - started) / 1000;
		delay.disable();
		measuring = false;
		const rssPeak = Math.max(...rss, process.memoryUsage().rss);
		// What the run keeps, not the garbage the flood left for the next collection.
		const collected = collectGarbage();
		const rssEnd = process.memoryUsage().rss;
		const heapEnd = process.memoryUsage().heapUsed;
		rss.push(rssEnd);
		const frames = renderTimes.length;
		const written = (JSON.parse(stdout.trim().split('\n').at(-1)!) as {bytesPerFile: number[]}).bytesPerFile.reduce((a, b) => a + b, 0);
		const lastFrame = visible(terminal.last);
		const ms = (ns: number) => round(ns / 1e6, 1);
		const group = 'console flood';
		const what = `3 x ${mib(BYTES_PER_SECOND)} MiB/s for ${SECONDS} s`;
		const rows = [
			row(group, `event-loop delay p50 (${what})`, ms(delay.percentile(50)), 'ms', {note: 'monitorEventLoopDelay, 10 ms resolution: an idle loop reads ~10 ms'}),
			row(group, 'event-loop delay p99', ms(delay.percentile(99)), 'ms', {goal: {max: 50, text: '< 50 ms'}, note: `max ${ms(delay.max)} ms`}),
			row(group, 'frames drawn per second', round(frames / elapsedS, 1), 'fps', {note: `Ink time per frame p50 ${round(percentile(renderTimes, 50), 1)} ms, p99 ${round(percentile(renderTimes, 99), 1)} ms; ${terminal.writes - writesBefore} terminal writes`}),
			row(group, 'RSS at start', mib(rssStart), 'MiB'),
			row(group, 'RSS at end', mib(rssEnd), 'MiB', {note: `${collected ? 'after a full GC; ' : 'no GC (run node with --expose-gc); '}peak during the flood ${mib(rssPeak)} MiB`}),
			row(group, 'RSS growth (end - start)', mib(rssEnd - rssStart), 'MiB', {goal: {max: 100, text: '< 100 MiB'}, note: `JS heap in use ${mib(heapStart)} -> ${mib(heapEnd)} MiB`}),
			row(group, 'console text consumed', mib(ingested.chars), 'MiB', {note: `of ${mib(written)} MiB written (escapes stripped); ${ingested.lines} lines${consoleShown ? '' : '; WARNING: the console view was not on screen'}`}),
		];
		return {
			rows,
			details: {
				driven: 'RunApp + useRun + ConsoleView (key "c"), events from console-tail on 3 growing files',
				consoleViewShown: consoleShown,
				elapsedS: round(elapsedS, 2),
				bytesWritten: written,
				linesIngested: ingested.lines,
				frames,
				renderMs: {p50: round(percentile(renderTimes, 50), 2), p99: round(percentile(renderTimes, 99), 2), max: round(Math.max(...renderTimes), 2)},
				terminalWrites: terminal.writes - writesBefore,
				terminalBytes: terminal.bytes,
				rssMiB: rss.map(mib),
				rssPeakMiB: mib(rssPeak),
				heapUsedMiB: {start: mib(heapStart), end: mib(heapEnd)},
				delayMs: {p50: ms(delay.percentile(50)), p90: ms(delay.percentile(90)), p99: ms(delay.percentile(99)), max: ms(delay.max), mean: ms(delay.mean)},
				lastFrameHead: lastFrame.split('\n').slice(0, 8),
			},
		};
	} catch (error) {
		return {rows: [failed('console flood', 'console flood', error)], details: {}};
	} finally {
		delay.disable();
		for (const tail of tails) tail.stop();
		await Promise.all(tails.map(tail => tail.done.catch(() => undefined)));
		finishRun();
		instance.unmount();
		await fs.rm(dir, {recursive: true, force: true});
	}
}
