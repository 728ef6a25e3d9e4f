import {ProblemError} from '../model/field-error.js';
import type {Plan} from '../model/plan.js';
import {ensureWorkDirs} from './owned-dir.js';
import fs from 'node:fs/promises';

// One run per work directory: `up`, `down`, `certs`, `validate` and the TUI's
// run each hold this lock while they work, so two of them can never create two
// CAs, upload keys from different runs or delete each other's sockets.
// A lock names its holder by pid AND the process's start time (a pid alone may
// have been reused), so a lock left by a crash is recognised and taken over.

export type LockHolder = {pid: number; startTime: string; bootId: string; command: string; since: string};

export class WorkLockBusy extends ProblemError {
	constructor(
		readonly file: string,
		readonly holder: LockHolder,
	) {
		super({
			message: `the work directory is in use by \`plasma-tui ${holder.command}\` (pid ${holder.pid}, since ${holder.since}; lock ${file})`,
			fix: `wait for it to finish, or stop it (ctrl-c in its terminal, or kill ${holder.pid}) and run again`,
		});
	}
}

export type WorkLock = {file: string; release: () => Promise<void>};

async function bootId(): Promise<string> {
	return (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
}

// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
export async function processStartTime(pid: number): Promise<string | undefined> {
	try {
		const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		// fields[0] is field 3 (state): a zombie has finished.
		if (fields[0] === 'Z') return undefined;
		return fields[19];
	} catch {
		return undefined;
	}
}

async function holderAlive(holder: LockHolder): Promise<boolean> {
	if (holder.bootId !== (await bootId())) return false;
	return (await processStartTime(holder.pid)) === holder.startTime;
}

function parseHolder(text: string): LockHolder | undefined {
	try {
		const value = JSON.parse(text) as Partial<LockHolder>;
		if (typeof value.pid !== 'number' || typeof value.startTime !== 'string' || typeof value.bootId !== 'string') return undefined;
		return {pid: value.pid, startTime: value.startTime, bootId: value.bootId, command: String(value.command ?? 'unknown'), since: String(value.since ?? 'unknown')};
	} catch {
		return undefined;
	}
}

export async function readLockHolder(file: string): Promise<LockHolder | undefined> {
	return parseHolder(await fs.readFile(file, 'utf8').catch(() => ''));
}

export async function acquireWorkLock(file: string, command: string): Promise<WorkLock> {
	const me: LockHolder = {pid: process.pid, startTime: (await processStartTime(process.pid)) ?? '', bootId: await bootId(), command, since: new Date().toISOString()};
	const text = `${JSON.stringify(me)}\n`;
	for (let attempt = 0; attempt < 3; attempt++) {
		try {
			// O_EXCL: never follows or reuses an existing file, a symlink included.
			const handle = await fs.open(file, 'wx', 0o600);
			try {
				await handle.writeFile(text);
			} finally {
				await handle.close();
			}
			return {file, release: () => releaseIfOurs(file, me)};
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		const stat = await fs.lstat(file).catch(() => undefined);
		if (stat?.isSymbolicLink()) throw new ProblemError({message: `the work directory lock ${file} is a symlink, not a lock`, fix: 'remove it after checking who planted it'});
		const holder = await readLockHolder(file);
		// A lock being written this instant reads as empty: give its writer a moment.
		if (!holder) {
			if (stat && Date.now() - stat.mtimeMs < 2000) {
				await new Promise(resolve => setTimeout(resolve, 200));
				continue;
			}
		} else if (await holderAlive(holder)) {
			throw new WorkLockBusy(file, holder);
		}
		// Stale (its process is gone, or the host rebooted since) or unreadable for long: take it over.
		await fs.rm(file, {force: true});
	}
	const holder = await readLockHolder(file);
	if (holder) throw new WorkLockBusy(file, holder);
	throw new ProblemError({message: `cannot take the work directory lock ${file}`, fix: `remove ${file} if no plasma-tui command is running for this profile`});
}

async function releaseIfOurs(file: string, me: LockHolder): Promise<void> {
	const holder = await readLockHolder(file);
	if (holder && holder.pid === me.pid && holder.startTime === me.startTime) await fs.rm(file, {force: true});
}

// The work directory checked (and made) as the tool's own, then its lock taken.
export async function lockWorkDir(plan: Pick<Plan, 'workDir' | 'lockFile'>, command: string): Promise<WorkLock> {
	await ensureWorkDirs(plan.workDir);
	return acquireWorkLock(plan.lockFile, command);
}

// Runs work while holding the work directory's lock; releases it on every way out.
export async function withWorkLock<T>(plan: Pick<Plan, 'workDir' | 'lockFile'>, command: string, work: () => Promise<T>): Promise<T> {
	const lock = await lockWorkDir(plan, command);
	try {
		return await work();
	} finally {
		await lock.release();
	}
}
