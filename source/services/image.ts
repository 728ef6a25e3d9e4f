import {createHash} from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {z} from 'zod';
import {ProblemError} from '../model/field-error.js';
import {assertSafeDir, ensureOwnedDir, ensureUsableDir, removeOwnedDir} from './owned-dir.js';
import {packageRoot} from './paths.js';
import {runStreamed, type ChildRecord} from './streamed-command.js';
import {readJsonFile} from './json-file.js';

// The demo netboot image: built from Debian packages by image/build-image.sh,
// cached under the image directory with a stamp of its inputs, rebuilt only
// when the image sources or the host's package versions change.

export type DemoImage = {kernel: string; initrd: string; stampFile: string; built: boolean; versions: string};

// What image/build-image.sh leaves in the image directory: a cache of an earlier version, found without the marker, is adopted.
const IMAGE_ENTRIES = ['vmlinuz', 'bzImage', 'initrd.img', 'versions.txt', 'stamp.json'];
const SOURCES = ['build-image.sh', 'init', 'svc', 'inittab', 'plasma-ready', 'plasma-disk', 'plasma-services', 'plasma-shutdown', 'acpi-power'];
const PACKAGES = ['busybox-static', 'openssh-server', 'etcd-server', 'etcd-client', 'gdisk', 'e2fsprogs', 'extlinux', 'syslinux-common', 'dosfstools', 'grub-efi-amd64-bin'];
const BUILD_TIMEOUT_MS = 10 * 60_000;
const LOCK_WAIT_MS = 10 * 60_000;

async function inputStamp(): Promise<string> {
	const hash = createHash('sha256');
	for (const file of SOURCES) hash.update(file).update(await fs.readFile(path.join(packageRoot(), 'image', file)));
	const versions = await execa('dpkg-query', ['-W', '-f=${Package} ${Version}\n', ...PACKAGES], {reject: false});
	hash.update(versions.stdout);
	return hash.digest('hex');
}

const stampSchema = z.strictObject({stamp: z.string(), builtAt: z.string()});
export type ImageStamp = z.infer<typeof stampSchema>;

// The stamp is a cache key: a bad one means "rebuild", and says so.
export async function readStamp(file: string, onBad?: (line: string) => void): Promise<ImageStamp | undefined> {
	const read = await readJsonFile(file, stampSchema);
	if (read.status === 'ok') return read.value;
	if (read.status === 'bad') onBad?.(`image stamp ${file} ${read.why}: the image is built again`);
	return undefined;
}

async function exists(file: string): Promise<boolean> {
	return fs.access(file).then(
		() => true,
		() => false,
	);
}

// Two runs building at once (two tests, two terminals) would race on the
// same files: a lock directory serialises them, and a stale lock (its owner
// gone) is taken over.
async function withLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
	const lock = `${dir}.lock`;
	const started = Date.now();
	for (;;) {
		try {
			await fs.mkdir(lock, {mode: 0o700});
			await fs.writeFile(path.join(lock, 'pid'), String(process.pid));
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			const owner = Number(await fs.readFile(path.join(lock, 'pid'), 'utf8').catch(() => '0'));
			if (owner > 0 && !isAlive(owner)) {
				await removeLock(lock);
				continue;
			}
			if (Date.now() - started > LOCK_WAIT_MS) throw new Error(`timed out waiting for another image build (lock ${lock})`);
			await new Promise(resolve => setTimeout(resolve, 500));
		}
	}
	try {
		return await work();
	} finally {
		await removeLock(lock);
	}
}

// The lock directory holds its pid file and nothing else: never removed recursively.
async function removeLock(lock: string): Promise<void> {
	await fs.rm(path.join(lock, 'pid'), {force: true});
	await fs.rmdir(lock).catch((error: NodeJS.ErrnoException) => {
		if (error.code !== 'ENOENT') throw error;
	});
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

export async function ensureDemoImage(
	imageDir: string,
	// buildScript: tests put a stand-in in place of image/build-image.sh. state: the run's state file, where the build is recorded while it runs.
	options: {rebuild?: boolean; onLine?: (line: string) => void; signal?: AbortSignal; buildScript?: string; state?: ChildRecord['state']} = {},
): Promise<DemoImage> {
	// The lock and the staging directory sit next to the image directory: its parent must be ours too.
	await ensureUsableDir(path.dirname(imageDir));
	return withLock(imageDir, async () => {
		const stampFile = path.join(imageDir, 'stamp.json');
		const kernel = path.join(imageDir, 'vmlinuz');
		const initrd = path.join(imageDir, 'initrd.img');
		const stamp = await inputStamp();
		if (!options.rebuild && (await readStamp(stampFile, options.onLine))?.stamp === stamp && (await exists(kernel)) && (await exists(initrd))) {
			await assertSafeDir(imageDir);
			return {kernel, initrd, stampFile, built: false, versions: await fs.readFile(path.join(imageDir, 'versions.txt'), 'utf8')};
		}
		// Build next to the cache and swap in, so a failed build leaves the old image (or none), never half of one.
		const staging = `${imageDir}.building`;
		// Checked before the build, so a folder that is not the tool's is said at once, and never deleted.
		if (await exists(imageDir)) await ensureOwnedDir(imageDir, {adoptable: IMAGE_ENTRIES});
		if (await exists(staging)) await ensureOwnedDir(staging, {adoptable: IMAGE_ENTRIES});
		await removeOrRefuse(staging);
		await ensureOwnedDir(staging);
		// In its own process group: a cancel or timeout stops apt-get, cpio and xz too, not only bash.
		const build = await runStreamed('bash', [options.buildScript ?? path.join(packageRoot(), 'image', 'build-image.sh'), staging], {
			timeoutMs: BUILD_TIMEOUT_MS,
			signal: options.signal,
			onLine: line => options.onLine?.(line),
			record: options.state ? {state: options.state, kind: 'image-build'} : undefined,
		});
		if (!build.ok) {
			await removeOrRefuse(staging);
			throw new Error(`demo image build failed (${build.why}):\n${build.lastLines.slice(-10).join('\n')}`);
		}
		await fs.writeFile(path.join(staging, 'stamp.json'), `${JSON.stringify({stamp, builtAt: new Date().toISOString()})}\n`);
		await removeOrRefuse(imageDir);
		await fs.rename(staging, imageDir);
		return {kernel, initrd, stampFile, built: true, versions: await fs.readFile(path.join(imageDir, 'versions.txt'), 'utf8')};
	});
}

async function removeOrRefuse(dir: string): Promise<void> {
	const outcome = await removeOwnedDir(dir);
	if (typeof outcome === 'object') throw new ProblemError({message: outcome.refused, fix: `move ${dir} away (or set PLASMA_TUI_IMAGE_DIR to a directory of its own) and build again`});
}
