import fs from 'node:fs/promises';

// Process facts from /proc. A PID alone is never trusted: it may have been
// reused, so a process counts as ours only when its command line carries our tag.

export async function cmdlineOf(pid: number): Promise<string | undefined> {
	try {
		return (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
	} catch {
		return undefined;
	}
}

async function isZombie(pid: number): Promise<boolean> {
	try {
		const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
	} catch {
		return true;
	}
}

export async function isOurProcess(pid: number | undefined, tag: string): Promise<boolean> {
	if (!pid || pid <= 1) return false;
	const cmdline = await cmdlineOf(pid);
	return cmdline !== undefined && cmdline.includes(tag) && !(await isZombie(pid));
}

export async function readPidfile(file: string): Promise<number | undefined> {
	try {
		const pid = Number((await fs.readFile(file, 'utf8')).trim());
		return Number.isInteger(pid) && pid > 1 ? pid : undefined;
	} catch {
		return undefined;
	}
}

// Every live process whose command line contains the tag (e.g. a work directory):
// how `down` finds nodes even when the state file is gone.
export async function findProcessesByTag(tag: string): Promise<Array<{pid: number; cmdline: string}>> {
	const found: Array<{pid: number; cmdline: string}> = [];
	for (const entry of await fs.readdir('/proc')) {
		const pid = Number(entry);
		if (!Number.isInteger(pid) || pid === process.pid) continue;
		const cmdline = await cmdlineOf(pid);
		if (cmdline?.includes(tag) && !(await isZombie(pid))) found.push({pid, cmdline});
	}
	return found;
}

export function signalProcess(pid: number, signal: NodeJS.Signals, group = false): boolean {
	try {
		process.kill(group ? -pid : pid, signal);
		return true;
	} catch {
		return false;
	}
}

export async function waitForExit(pid: number, tag: string, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (!(await isOurProcess(pid, tag))) return true;
		await new Promise(resolve => setTimeout(resolve, 100));
	}
	return !(await isOurProcess(pid, tag));
}

// TERM, then KILL after the grace period; to the process group when it leads one.
export async function stopProcess(pid: number, tag: string, graceMs = 3000): Promise<'exited' | 'terminated' | 'killed' | 'gone'> {
	if (!(await isOurProcess(pid, tag))) return 'gone';
	signalProcess(pid, 'SIGTERM', true) || signalProcess(pid, 'SIGTERM');
	if (await waitForExit(pid, tag, graceMs)) return 'terminated';
	signalProcess(pid, 'SIGKILL', true) || signalProcess(pid, 'SIGKILL');
	await waitForExit(pid, tag, 2000);
	return 'killed';
}
