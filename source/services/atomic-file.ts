import {randomBytes} from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {ProblemError} from '../model/field-error.js';

// Node's write errors ("ENOSPC: no space left on device, write") do not say
// which file: this one does, keeps the code, and says what to do.
export function fileWriteError(file: string, cause: NodeJS.ErrnoException): ProblemError {
	const code = cause.code ?? 'EIO';
	return new ProblemError({message: `cannot write ${file}: ${code}${cause.code ? ` (${describe(code)})` : `: ${cause.message}`}`, fix: fixFor(code, path.dirname(file))}, {cause});
}

function describe(code: string): string {
	const known: Record<string, string> = {
		ENOSPC: 'no space left on the device',
		EDQUOT: 'disk quota exceeded',
		EROFS: 'read-only file system',
		EACCES: 'permission denied',
		EPERM: 'operation not permitted',
		ENAMETOOLONG: 'name too long',
		ENOENT: 'no such directory',
	};
	return known[code] ?? 'write failed';
}

function fixFor(code: string, dir: string): string {
	if (code === 'ENOSPC' || code === 'EDQUOT') return `free space on the file system that holds ${dir} (or choose another workDir) and run again; nothing half-written was left`;
	if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return `make ${dir} writable, or choose another workDir`;
	return `check ${dir}`;
}

// Write to a temp file in the same directory, fsync, then rename over the
// target: a full disk or a crash leaves the old file or none, never half a key.
// Rename also replaces a read-only (0400) target, which a plain write cannot.
export async function writeFileAtomic(file: string, content: string | Buffer, mode: number): Promise<void> {
	const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
	let handle: fs.FileHandle | undefined;
	try {
		handle = await fs.open(temp, 'wx', mode);
		await handle.writeFile(content);
		await handle.sync();
		await handle.close();
		handle = undefined;
		await fs.chmod(temp, mode);
		await fs.rename(temp, file);
	} catch (error) {
		await handle?.close().catch(() => undefined);
		await fs.rm(temp, {force: true});
		throw (error as NodeJS.ErrnoException).code ? fileWriteError(file, error as NodeJS.ErrnoException) : error;
	}
}

// Same, but leaves the file alone (mtime too) when the content is already right.
export async function writeFileIfChanged(file: string, content: string, mode: number): Promise<boolean> {
	const current = await fs.readFile(file, 'utf8').catch(() => undefined);
	if (current === content) {
		const stat = await fs.stat(file);
		if ((stat.mode & 0o777) !== mode) await fs.chmod(file, mode);
		return false;
	}
	await writeFileAtomic(file, content, mode);
	return true;
}
