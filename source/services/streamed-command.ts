import fs from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {onPath} from './on-path.js';
import {groupMembers, signalProcess, statOf, stopGroup} from './processes.js';
import {identityOf, type ProcessEntry, type StateStore} from './state.js';

// A long host command whose output lines go to a pane as they come
// (nixos-anywhere, nix build). It runs in its own process group: those tools
// start ssh and nix children, and a timeout or Ctrl-C must stop them too, not
// only the direct child (execa's cancelSignal reaches only that one, and a
// grandchild holding the output pipe would keep the line stream open).
// With `record`, it is in the state file before it starts (argv, exe), with
// its pid and group once it runs, and taken out when it has ended: a
// SIGKILL of this tool leaves a record that `down` stops.

export type ChildRecord = {
	state: Pick<StateStore, 'current' | 'recordProcess' | 'setProcess' | 'removeProcess'>;
	kind: ProcessEntry['kind'];
	node?: string;
};

export type StreamedResult = {
	ok: boolean;
	exitCode?: number;
	signal?: string;
	// What went wrong, in words: "exited 3", "timed out after 60 s", "cancelled", "is not on the PATH".
	why?: string;
	notFound: boolean;
	lastLines: string[];
};

const KEEP_LINES = 20;
const KILL_GRACE_MS = 5000;

export async function runStreamed(
	file: string,
	args: string[],
	options: {timeoutMs: number; signal?: AbortSignal; onLine: (line: string) => void; env?: NodeJS.ProcessEnv; cwd?: string; record?: ChildRecord},
): Promise<StreamedResult> {
	options.signal?.throwIfAborted();
	const {record} = options;
	const resolved = file.includes('/') ? file : await onPath(file, options.env ?? process.env);
	if (record && resolved) {
		// A leftover of a run that was killed (same tool, same node) goes first: its record is about to be replaced.
		const previous = record.state.current.processes.find(p => p.kind === record.kind && p.node === record.node);
		if (previous) {
			const outcome = await stopGroup(previous, identityOf(previous), 2000);
			if (outcome !== 'gone') options.onLine(`an earlier ${record.kind} (pid ${previous.pid ?? '?'}) was still running: ${outcome}`);
		}
		await record.state.recordProcess({kind: record.kind, node: record.node, argv: [resolved, ...args], exe: await executablesOf(resolved, options.env), match: args, sockets: [], ports: [], startedAt: new Date().toISOString(), status: 'starting'});
	}
	options.signal?.throwIfAborted();
	const child = execa(file, args, {all: true, reject: false, stdin: 'ignore', detached: true, env: options.env, cwd: options.cwd, stripFinalNewline: true});
	let stopped: string | undefined;
	const stopChild = (why: string) => {
		stopped ??= why;
		const pid = child.pid;
		if (!pid) return;
		signalProcess(pid, 'SIGTERM', true);
		setTimeout(() => signalProcess(pid, 'SIGKILL', true), KILL_GRACE_MS).unref();
	};
	const pid = child.pid;
	// Nothing is awaited before the lines are read (output that comes first would be lost):
	// the pid and group reach the state file in the background, and are awaited at the end.
	const recorded = (async () => {
		const startTicks = pid ? (await statOf(pid))?.startTicks : undefined;
		if (record && resolved && pid) await record.state.setProcess(record.kind, record.node, {pid, pgid: pid, startTicks, status: 'running'});
		return startTicks;
	})();
	recorded.catch(() => undefined);
	const seconds = Math.round(options.timeoutMs / 1000);
	const timer = setTimeout(() => stopChild(`timed out after ${seconds} s`), options.timeoutMs);
	const onAbort = () => stopChild('cancelled');
	options.signal?.addEventListener('abort', onAbort, {once: true});
	if (options.signal?.aborted) onAbort();
	// Detached children outlive us unless told: a crash of the tool must not leave an install running.
	const onExit = () => child.pid && signalProcess(child.pid, 'SIGTERM', true);
	process.once('exit', onExit);
	const lastLines: string[] = [];
	try {
		for await (const line of child.iterable({from: 'all'})) {
			const text = String(line).replace(/\r$/, '');
			lastLines.push(text);
			if (lastLines.length > KEEP_LINES) lastLines.shift();
			options.onLine(text);
		}
		const result = await child;
		const notFound = (result as {code?: string}).code === 'ENOENT';
		if (!result.failed && !stopped) return {ok: true, exitCode: result.exitCode, notFound: false, lastLines};
		const why = stopped ?? (notFound ? 'is not on the PATH' : result.exitCode !== undefined ? `exited ${result.exitCode}` : result.signal ? `was killed by ${result.signal}` : result.shortMessage);
		return {ok: false, exitCode: result.exitCode, signal: result.signal, why, notFound, lastLines};
	} finally {
		clearTimeout(timer);
		options.signal?.removeEventListener('abort', onAbort);
		process.removeListener('exit', onExit);
		// What the tool left in its group (an ssh master, a sleep) ends with it.
		const startTicks = await recorded.catch(() => undefined);
		if (pid && (await groupMembers(pid, startTicks)).length > 0) signalProcess(pid, 'SIGTERM', true);
		if (record && resolved) await record.state.removeProcess(record.kind, record.node);
	}
}

// The binaries /proc/<pid>/exe may show for `file`: the file itself and, for a
// script, its interpreter (`#!/usr/bin/env bash` is bash, found on the PATH).
async function executablesOf(file: string, env?: NodeJS.ProcessEnv): Promise<string[]> {
	const real = await fs.realpath(file).catch(() => file);
	const head = await fs.open(real).then(
		async handle => {
			try {
				const {buffer, bytesRead} = await handle.read(Buffer.alloc(256), 0, 256, 0);
				return buffer.subarray(0, bytesRead).toString('utf8');
			} finally {
				await handle.close();
			}
		},
		() => '',
	);
	if (!head.startsWith('#!')) return [real];
	const [interpreter, ...rest] = head.slice(2).split('\n')[0]!.trim().split(/\s+/);
	if (!interpreter) return [real];
	const name = path.basename(interpreter) === 'env' ? rest.find(word => !word.startsWith('-')) : interpreter;
	const found = name && (name.includes('/') ? name : await onPath(name, env ?? process.env));
	return found ? [real, await fs.realpath(found).catch(() => found)] : [real];
}
