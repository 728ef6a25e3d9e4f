import net from 'node:net';
import {performance} from 'node:perf_hooks';
import {type ResultPromise, execa} from 'execa';

// What the VM sessions (vm-session.ts, up-runs.ts) share: free SSH ports, commands timed line by line.

export type TimedLine = {ms: number; line: string};
export type CommandRecord = {command: string[]; exitCode: number | undefined; totalMs: number; lines: TimedLine[]; stderr: string};

async function portFree(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const server = net.createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

// COUNT consecutive free ports on 127.0.0.1, away from the templates' 22xx.
export async function freePortBase(count: number, avoid: number[] = []): Promise<number> {
	for (let attempt = 0; attempt < 200; attempt++) {
		const base = 30_000 + Math.floor(Math.random() * 25_000);
		const ports = Array.from({length: count}, (_, i) => base + i);
		if (ports.some(p => avoid.includes(p))) continue;
		if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
	}
	throw new Error(`no ${count} consecutive free ports found on 127.0.0.1`);
}

// Every stdout line with the time it arrived, relative to the spawn.
export async function timed(child: ResultPromise, started: number, onLine?: (line: string) => void): Promise<CommandRecord> {
	const lines: TimedLine[] = [];
	let partial = '';
	child.stdout!.on('data', (chunk: Buffer) => {
		const at = performance.now() - started;
		const parts = (partial + chunk.toString('utf8')).split('\n');
		partial = parts.pop() ?? '';
		for (const line of parts) {
			lines.push({ms: at, line});
			onLine?.(line);
		}
	});
	const result = await child;
	if (partial) lines.push({ms: performance.now() - started, line: partial});
	return {command: [result.command], exitCode: result.exitCode, totalMs: performance.now() - started, lines, stderr: String(result.stderr ?? '').slice(-4000)};
}

export async function run(command: string, args: string[], options: {env?: NodeJS.ProcessEnv; timeoutMs: number; onLine?: (line: string) => void; onStart?: (pid: number) => void}): Promise<CommandRecord> {
	const started = performance.now();
	const child = execa(command, args, {env: options.env, timeout: options.timeoutMs, reject: false, stdin: 'ignore', all: false});
	if (child.pid !== undefined) options.onStart?.(child.pid);
	const record = await timed(child, started, options.onLine);
	record.command = [command, ...args];
	return record;
}

