import fs from 'node:fs/promises';
import path from 'node:path';
import {ProblemError} from '../model/field-error.js';

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
export async function ensureOwnedDir(dir: string, options: {adoptable?: readonly string[]} = {}): Promise<void> {
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
	if (existed) {
		const foreign = (await fs.readdir(dir)).filter(entry => !(options.adoptable ?? []).includes(entry));
		if (foreign.length > 0) {
			throw new UnsafeDirError(dir, `already exists and was not made by plasma-tui (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})`, 'choose a new or empty directory for workDir');
		}
	}
	const handle = await fs.open(marker, 'wx', 0o600).catch((error: NodeJS.ErrnoException) => {
		if (error.code === 'EEXIST') return undefined;
		throw error;
	});
	if (handle) {
		await handle.writeFile('made by plasma-tui: removed only by plasma-tui down --purge\n');
		await handle.close();
	}
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
