import type {Plan} from '../model/plan.js';
import {ProblemError} from '../model/field-error.js';
import {nodePid} from '../services/qemu.js';
import {diskSnapshotTags} from '../services/snapshots.js';
import {restorableSnapshot} from './snapshot-restore.js';
import {assertSnapshotName} from './snapshot.js';

// What `up --from-snapshot NAME` needs before it starts anything: a snapshot the plan
// still fits, every node's disk holding it, and no node running (that is `snapshot restore`).
export async function assertSnapshotBootable(plan: Plan, rawName: string): Promise<void> {
	const name = assertSnapshotName(rawName);
	await restorableSnapshot(plan, name);
	const running: string[] = [];
	for (const node of plan.nodes) if (await nodePid(node, plan)) running.push(node.name);
	if (running.length > 0) {
		throw new ProblemError({message: `${running.join(', ')} still run${running.length === 1 ? 's' : ''}`, fix: `restore into the running cluster with plasma-tui snapshot restore ${name}, or stop it first with plasma-tui down`});
	}
	const lacking: string[] = [];
	for (const node of plan.nodes) {
		const tags = await diskSnapshotTags(node.disk.path).catch((error: Error) => [`(unreadable: ${error.message})`]);
		if (!tags.includes(name)) lacking.push(`${node.name} (${node.disk.path})`);
	}
	if (lacking.length > 0) throw new ProblemError({message: `the disk of ${lacking.join(', ')} does not hold snapshot ${name}`, fix: `down --purge removed it, or it was deleted: plasma-tui snapshot delete ${name} drops the metadata`});
}
