import {constants as fsConstants} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {ProblemError} from '../model/field-error.js';
import {writeFileAtomic} from './atomic-file.js';

// Directories the tool makes carry a marker file, and nothing is removed
// without it: a workDir of /home/me or a vdeSocket pointing elsewhere can be
// used, but never deleted by `down`. A directory is used only when it is the
// operator's own: owned by this user, not writable by group or others, not a
// symlink (another local user could otherwise pre-create run/node01/ and get
// the QMP socket, or plant tls/ca.* to be reused as "an earlier run's CA").

export const OWNED_MARKER = '.plasma-tui-owned';

export class UnsafeDirError extends ProblemError {
	constructor(
		readonly dir: string,
		reason: string,
		fix: string,
	) {
		super({message: `${dir} ${reason}`, fix});
	}
}

function uid(): number | undefined {
	return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

// Refuses a directory another user could have prepared for us.
export async function assertSafeDir(dir: string): Promise<void> {
	const stat = await fs.lstat(dir);
	if (stat.isSymbolicLink()) throw new UnsafeDirError(dir, 'is a symlink', `replace it with a real directory, or point the profile's workDir at the directory it links to`);
	if (!stat.isDirectory()) throw new UnsafeDirError(dir, 'is not a directory', 'remove it or choose another workDir');
	const me = uid();
	if (me !== undefined && stat.uid !== me) throw new UnsafeDirError(dir, `is owned by uid ${stat.uid}, not by you (uid ${me})`, `choose a workDir under your home directory (e.g. ~/.local/share/plasma-tui/clusters), or remove ${dir} if you did not create it`);
	if ((stat.mode & 0o022) !== 0) throw new UnsafeDirError(dir, `is writable by ${stat.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(stat.mode & 0o777).toString(8)})`, `chmod go-w ${dir}, or choose a workDir under your home directory`);
}

// Makes the directory (and its missing parents, 0700) or checks the one found, and marks it ours.
// An existing directory is adopted only when it is empty or holds nothing but what the tool itself
// makes (`adoptable`): a non-empty folder of the operator's is never marked for deletion.
// `adoptable: 'any'` is for a directory inside a work directory that already carries the marker.
export async function ensureOwnedDir(dir: string, options: {adoptable?: readonly string[] | 'any'} = {}): Promise<void> {
	const existed = await fs.lstat(dir).then(
		() => true,
		(error: NodeJS.ErrnoException) => {
			if (error.code === 'ENOENT') return false;
			throw error;
		},
	);
	if (!existed) await fs.mkdir(dir, {recursive: true, mode: 0o700});
	await assertSafeDir(dir);
	const marker = path.join(dir, OWNED_MARKER);
	if (await isMarked(dir)) return;
	if (existed && options.adoptable !== 'any') {
		const known = [OWNED_MARKER, ...(options.adoptable ?? [])];
		const foreign = (await fs.readdir(dir)).filter(entry => !known.includes(entry));
		if (foreign.length > 0) {
			throw new UnsafeDirError(dir, `already exists and was not made by plasma-tui (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})`, 'choose a new or empty directory for workDir');
		}
	}
	// Atomic: a full disk leaves no empty marker, and the error names the file.
	await writeFileAtomic(marker, 'made by plasma-tui: removed only by plasma-tui down --purge\n', 0o600);
}

export async function isMarked(dir: string): Promise<boolean> {
	const stat = await fs.lstat(path.join(dir, OWNED_MARKER)).catch(() => undefined);
	return stat?.isFile() === true;
}

// Removes a directory only when it is a real directory carrying the marker.
export async function removeOwnedDir(dir: string): Promise<'removed' | 'absent' | {refused: string}> {
	const stat = await fs.lstat(dir).catch(() => undefined);
	if (!stat) return 'absent';
	if (stat.isSymbolicLink() || !stat.isDirectory()) return {refused: `${dir} is not a directory plasma-tui made (a ${stat.isSymbolicLink() ? 'symlink' : 'file'}): left in place`};
	if (!(await isMarked(dir))) return {refused: `${dir} has no ${OWNED_MARKER} marker, so plasma-tui did not make it: left in place`};
	await fs.rm(dir, {recursive: true, force: true});
	return 'removed';
}

// What the work directory of an earlier version (made before the marker) holds: such a directory is adopted.
export const WORK_DIR_ENTRIES = [
	'run',
	'nodes',
	'tls',
	'ssh',
	'netboot',
	'state.json',
	'report.json',
	'report.txt',
	// The work directory lock (<workDir>/lock), which may be taken before the marker is written.
	'lock',
];

function isInside(parent: string, dir: string): boolean {
	const relative = path.relative(parent, dir);
	return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

// The work directory, then each directory of `dirs` level by level from the top, each checked
// (lstat: a real directory of this user's, not writable by group or others) and marked. Below the
// marked work directory whatever a level holds is the tool's own; a directory outside the work
// directory (ssh.keyPath elsewhere) is made and marked when missing, else only checked.
export async function ensureWorkDirs(workDir: string, dirs: readonly string[] = []): Promise<void> {
	await ensureOwnedDir(workDir, {adoptable: WORK_DIR_ENTRIES});
	for (const dir of dirs) {
		if (path.resolve(dir) === path.resolve(workDir)) continue;
		if (!isInside(workDir, dir)) {
			await ensureUsableDir(dir);
			continue;
		}
		let current = workDir;
		for (const part of path.relative(workDir, dir).split(path.sep)) {
			current = path.join(current, part);
			await ensureOwnedDir(current, {adoptable: 'any'});
		}
	}
}

// A directory the tool writes into but never removes: made (0700, marked) when missing, else only checked.
export async function ensureUsableDir(dir: string): Promise<void> {
	const stat = await fs.lstat(dir).catch(() => undefined);
	if (stat) await assertSafeDir(dir);
	else await ensureOwnedDir(dir);
}

// A file the tool writes (a log): never through a symlink, and never one another user made.
// `truncate` starts it afresh, `append` keeps what is there.
export async function openOwnFile(file: string, how: 'truncate' | 'append', mode = 0o600): Promise<fs.FileHandle> {
	const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW | fsConstants.O_APPEND;
	const handle = await fs.open(file, flags, mode).catch((error: NodeJS.ErrnoException) => {
		if (error.code === 'ELOOP') throw new ProblemError({message: `${file} is a symlink`, fix: `remove ${file}: plasma-tui writes it itself and never follows a link there`});
		throw error;
	});
	const stat = await handle.stat();
	const me = uid();
	if (!stat.isFile() || (me !== undefined && stat.uid !== me)) {
		await handle.close();
		throw new ProblemError({message: `${file} is ${stat.isFile() ? `owned by uid ${stat.uid}, not by you (uid ${me})` : 'not a regular file'}`, fix: `remove ${file}; plasma-tui makes it itself`});
	}
	// Truncated only once it is known to be ours (a hard link to another file would be cut otherwise).
	if (how === 'truncate') await handle.truncate(0);
	return handle;
}
