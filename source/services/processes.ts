import fs from 'node:fs/promises';
import path from 'node:path';

// Process facts from /proc. A PID alone is never trusted: it may have been
// reused. A process counts as ours only when its argv holds the elements we
// started it with (e.g. `-pidfile <the planned pidfile>`, compared element by
// element, never as a substring) and /proc/<pid>/exe is the binary we started.

export type ProcessIdentity = {
	// The binaries /proc/<pid>/exe may resolve to, compared by file name
	// (qemu-system-x86_64, vde_switch; the interpreter of a script).
	exe: string[];
	// Argv elements that must appear in this order, next to each other.
	args: string[];
};

// ours: argv and exe match. denied: argv matches but the exe cannot be read
// (another user's process): it may be ours, but we cannot touch it.
export type Ownership = 'ours' | 'foreign' | 'denied' | 'gone';

export type StopOutcome = 'terminated' | 'killed' | 'gone' | `not stopped: ${string}`;

export async function argvOf(pid: number): Promise<string[] | undefined> {
	try {
		const raw = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
		return raw.split('\0').slice(0, raw.endsWith('\0') ? -1 : undefined);
	} catch {
		return undefined;
	}
}

export async function cmdlineOf(pid: number): Promise<string | undefined> {
	return (await argvOf(pid))?.join(' ').trim();
}

// The binary a process runs, or the errno that kept us from reading it.
export async function exeOf(pid: number): Promise<{exe: string} | {error: string}> {
	try {
		// A binary replaced by an upgrade reads as "/usr/bin/x (deleted)".
		return {exe: (await fs.readlink(`/proc/${pid}/exe`)).replace(/ \(deleted\)$/, '')};
	} catch (error) {
		return {error: (error as NodeJS.ErrnoException).code ?? 'EIO'};
	}
}

type ProcStat = {state: string; pgid: number; sid: number; startTicks: number};

export async function statOf(pid: number): Promise<ProcStat | undefined> {
	try {
		const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
		// Fields after the command name, which may itself hold spaces and parentheses.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return {state: fields[0] ?? '', pgid: Number(fields[2]), sid: Number(fields[3]), startTicks: Number(fields[19])};
	} catch {
		return undefined;
	}
}

async function isZombie(pid: number): Promise<boolean> {
	const stat = await statOf(pid);
	return !stat || stat.state.startsWith('Z');
}

export function hasArgs(argv: string[], wanted: string[]): boolean {
	if (wanted.length === 0) return false;
	const same = (element: string, want: string) => element === want || (want.startsWith('/') && path.resolve(element) === path.resolve(want));
	for (let start = 0; start + wanted.length <= argv.length; start++) {
		if (wanted.every((want, offset) => same(argv[start + offset]!, want))) return true;
	}
	return false;
}

function exeMatches(exe: string, expected: string[]): boolean {
	return expected.some(name => path.basename(name) === path.basename(exe));
}

export async function ownership(pid: number | undefined, identity: ProcessIdentity): Promise<Ownership> {
	if (!pid || pid <= 1) return 'foreign';
	const argv = await argvOf(pid);
	if (argv === undefined || (await isZombie(pid))) return 'gone';
	if (!hasArgs(argv, identity.args)) return 'foreign';
	const exe = await exeOf(pid);
	if ('error' in exe) return exe.error === 'ENOENT' || exe.error === 'ESRCH' ? 'gone' : 'denied';
	return exeMatches(exe.exe, identity.exe) ? 'ours' : 'foreign';
}

export async function isOurProcess(pid: number | undefined, identity: ProcessIdentity): Promise<boolean> {
	return (await ownership(pid, identity)) === 'ours';
}

export async function readPidfile(file: string): Promise<number | undefined> {
	try {
		const pid = Number((await fs.readFile(file, 'utf8')).trim());
		return Number.isInteger(pid) && pid > 1 ? pid : undefined;
	} catch {
		return undefined;
	}
}

export type LiveProcess = {pid: number; argv: string[]; exe?: string; error?: string};

// Every live process `accept` takes, judged on its argv and exe: how `down` finds
// what the state file lost.
export async function findProcesses(accept: (found: LiveProcess) => boolean): Promise<LiveProcess[]> {
	const found: LiveProcess[] = [];
	for (const entry of await fs.readdir('/proc')) {
		const pid = Number(entry);
		if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
		const argv = await argvOf(pid);
		if (!argv || argv.length === 0 || (await isZombie(pid))) continue;
		const exe = await exeOf(pid);
		const candidate = 'exe' in exe ? {pid, argv, exe: exe.exe} : {pid, argv, error: exe.error};
		if (accept(candidate)) found.push(candidate);
	}
	return found;
}

export async function findByIdentity(identity: ProcessIdentity): Promise<LiveProcess[]> {
	return findProcesses(p => hasArgs(p.argv, identity.args) && (p.exe === undefined || exeMatches(p.exe, identity.exe)));
}

// Members of a process group that started no earlier than its leader did: what a
// detached tool left behind after its leader exited (a group id is not reused
// while any member lives, and the start time rules out a group from before).
export async function groupMembers(pgid: number, notBeforeTicks = 0): Promise<number[]> {
	const members: number[] = [];
	for (const entry of await fs.readdir('/proc')) {
		const pid = Number(entry);
		if (!Number.isInteger(pid) || pid <= 1) continue;
		const stat = await statOf(pid);
		if (stat && stat.pgid === pgid && stat.sid === pgid && !stat.state.startsWith('Z') && stat.startTicks >= notBeforeTicks) members.push(pid);
	}
	return members;
}

// The errno of a refused signal (ESRCH: nothing there), or undefined when it was sent.
export function signalProcess(pid: number, signal: NodeJS.Signals, group = false): string | undefined {
	try {
		process.kill(group ? -pid : pid, signal);
		return undefined;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code ?? 'EINVAL';
	}
}

export async function waitForExit(pid: number, identity: ProcessIdentity, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if ((await ownership(pid, identity)) !== 'ours') return true;
		await new Promise(resolve => setTimeout(resolve, 100));
	}
	return (await ownership(pid, identity)) !== 'ours';
}

// TERM, then KILL after the grace period; to the process group when it leads
// one. What really happened is the answer: a refused signal or a survivor is
// "not stopped", never "stopped".
export async function stopProcess(pid: number, identity: ProcessIdentity, graceMs = 3000): Promise<StopOutcome> {
	const owner = await ownership(pid, identity);
	if (owner === 'denied') return 'not stopped: EPERM';
	if (owner !== 'ours') return 'gone';
	const send = (signal: NodeJS.Signals) => {
		const group = signalProcess(pid, signal, true);
		return group === undefined ? undefined : signalProcess(pid, signal);
	};
	const refused = send('SIGTERM');
	if (refused === 'EPERM') return 'not stopped: EPERM';
	if (await waitForExit(pid, identity, graceMs)) return 'terminated';
	const killRefused = send('SIGKILL');
	if (killRefused === 'EPERM') return 'not stopped: EPERM';
	if (await waitForExit(pid, identity, 2000)) return 'killed';
	return 'not stopped: still running after SIGKILL';
}

// Stops a recorded detached tool and everything in its process group: the
// leader when it is still ours, or what its group left behind.
export async function stopGroup(record: {pid?: number; pgid?: number; startTicks?: number}, identity: ProcessIdentity, graceMs = 3000): Promise<StopOutcome> {
	const leader = record.pid ? await ownership(record.pid, identity) : 'gone';
	if (leader === 'denied') return 'not stopped: EPERM';
	if (leader === 'foreign') return 'gone';
	const pgid = record.pgid ?? record.pid;
	const members = pgid ? await groupMembers(pgid, record.startTicks) : [];
	if (leader === 'gone' && members.length === 0) return 'gone';
	const alive = async () => (pgid ? (await groupMembers(pgid, record.startTicks)).length > 0 : false) || (record.pid ? (await ownership(record.pid, identity)) === 'ours' : false);
	const send = (signal: NodeJS.Signals) => {
		const refused = pgid ? signalProcess(pgid, signal, true) : 'ESRCH';
		if (refused === undefined) return undefined;
		return record.pid && leader === 'ours' ? signalProcess(record.pid, signal) : refused;
	};
	if (send('SIGTERM') === 'EPERM') return 'not stopped: EPERM';
	const deadline = Date.now() + graceMs;
	while (Date.now() < deadline && (await alive())) await new Promise(resolve => setTimeout(resolve, 100));
	if (!(await alive())) return 'terminated';
	if (send('SIGKILL') === 'EPERM') return 'not stopped: EPERM';
	const killDeadline = Date.now() + 2000;
	while (Date.now() < killDeadline && (await alive())) await new Promise(resolve => setTimeout(resolve, 100));
	return (await alive()) ? 'not stopped: still running after SIGKILL' : 'killed';
}
