import {execa} from 'execa';
import {signalProcess} from './processes.js';

// A long host command whose output lines go to a pane as they come
// (nixos-anywhere, nix build). It runs in its own process group: those tools
// start ssh and nix children, and a timeout or Ctrl-C must stop them too, not
// only the direct child (execa's cancelSignal reaches only that one, and a
// grandchild holding the output pipe would keep the line stream open).

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
	options: {timeoutMs: number; signal?: AbortSignal; onLine: (line: string) => void; env?: NodeJS.ProcessEnv; cwd?: string},
): Promise<StreamedResult> {
	options.signal?.throwIfAborted();
	const child = execa(file, args, {all: true, reject: false, stdin: 'ignore', detached: true, env: options.env, cwd: options.cwd, stripFinalNewline: true});
	let stopped: string | undefined;
	const stopGroup = (why: string) => {
		stopped ??= why;
		const pid = child.pid;
		if (!pid) return;
		signalProcess(pid, 'SIGTERM', true);
		setTimeout(() => signalProcess(pid, 'SIGKILL', true), KILL_GRACE_MS).unref();
	};
	const seconds = Math.round(options.timeoutMs / 1000);
	const timer = setTimeout(() => stopGroup(`timed out after ${seconds} s`), options.timeoutMs);
	const onAbort = () => stopGroup('cancelled');
	options.signal?.addEventListener('abort', onAbort, {once: true});
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
	}
}
