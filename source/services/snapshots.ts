import fs from 'node:fs/promises';
import {execa} from 'execa';
import {ProblemError} from '../model/field-error.js';
import type {Plan} from '../model/plan.js';
import {snapshotFileFor, snapshotMetaSchema, type SnapshotMeta} from '../model/snapshot.js';
import {writeFileAtomic} from './atomic-file.js';
import {readJsonFile} from './json-file.js';
import {ensureWorkDirs} from './owned-dir.js';

// Snapshot metadata files (<workDir>/snapshots/NAME.json, read through the
// schema) and the internal snapshots inside a disk no QEMU holds open.

export async function writeSnapshotMeta(plan: Pick<Plan, 'workDir' | 'snapshotsDir'>, meta: SnapshotMeta): Promise<string> {
	await ensureWorkDirs(plan.workDir, [plan.snapshotsDir]);
	const file = snapshotFileFor(plan, meta.name);
	await writeFileAtomic(file, `${JSON.stringify(snapshotMetaSchema.parse(meta), null, 2)}\n`, 0o600);
	return file;
}

export async function readSnapshotMeta(plan: Pick<Plan, 'snapshotsDir'>, name: string): Promise<SnapshotMeta | undefined> {
	const file = snapshotFileFor(plan, name);
	const read = await readJsonFile(file, snapshotMetaSchema);
	if (read.status === 'absent') return undefined;
	if (read.status === 'bad') throw new ProblemError({message: `snapshot metadata ${file} ${read.why}`, fix: `move it away (mv ${file} ${file}.bad); the node disks still hold the saved state under the tag "${name}"`});
	return read.value;
}

export type SnapshotListing = {snapshots: SnapshotMeta[]; bad: string[]};

// Oldest first; a file that does not read as metadata is listed by name, not dropped silently.
export async function listSnapshots(plan: Pick<Plan, 'snapshotsDir'>): Promise<SnapshotListing> {
	const names = (await fs.readdir(plan.snapshotsDir).catch(() => [] as string[])).filter(name => name.endsWith('.json'));
	const snapshots: SnapshotMeta[] = [];
	const bad: string[] = [];
	for (const file of names) {
		const read = await readJsonFile(`${plan.snapshotsDir}/${file}`, snapshotMetaSchema);
		if (read.status === 'ok') snapshots.push(read.value);
		else if (read.status === 'bad') bad.push(`${plan.snapshotsDir}/${file} ${read.why}`);
	}
	snapshots.sort((a, b) => Date.parse(a.takenAt) - Date.parse(b.takenAt));
	return {snapshots, bad};
}

export async function removeSnapshotMeta(plan: Pick<Plan, 'snapshotsDir'>, name: string): Promise<void> {
	await fs.rm(snapshotFileFor(plan, name), {force: true});
}

// The internal snapshot tags of a disk (-U: readable while a QEMU holds it, for a check only).
export async function diskSnapshotTags(disk: string): Promise<string[]> {
	const result = await execa('qemu-img', ['info', '-U', '--output=json', disk], {reject: false, timeout: 30_000});
	if (result.exitCode !== 0) throw new ProblemError({message: `qemu-img info ${disk}: ${result.stderr.trim() || `exit ${result.exitCode}`}`});
	const info = JSON.parse(result.stdout) as {snapshots?: Array<{name: string}>};
	return (info.snapshots ?? []).map(s => s.name);
}

// Only on a disk no QEMU has open (the cluster is down): a running node deletes through its monitor.
export async function deleteDiskSnapshot(disk: string, tag: string): Promise<void> {
	const result = await execa('qemu-img', ['snapshot', '-d', tag, disk], {reject: false, timeout: 60_000});
	if (result.exitCode !== 0) throw new ProblemError({message: `qemu-img snapshot -d ${tag} ${disk}: ${result.stderr.trim() || `exit ${result.exitCode}`}`});
}

export async function allocatedBytes(file: string): Promise<number> {
	const stat = await fs.stat(file).catch(() => undefined);
	return stat ? stat.blocks * 512 : 0;
}
