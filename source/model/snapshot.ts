import path from 'node:path';
import {z} from 'zod';
import {type FieldError, fieldError} from './field-error.js';
import type {Plan} from './plan.js';

// A whole-cluster snapshot: every node paused at one instant and saved as an
// internal qcow2 snapshot (RAM and disk) of its own disk, plus one metadata
// file under the work directory that says what was saved and from which plan.
// The metadata is read back through this schema; a restore compares it with
// the current plan and refuses what the snapshot cannot satisfy.

// A QEMU snapshot tag and a file name at once: no path separators, no spaces.
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

// The tag a restore saves each node under first, so a load that fails on one node can roll the others back.
export const PRE_RESTORE_TAG = 'plasma-pre-restore';

export function snapshotNameProblems(name: string | undefined, field = 'NAME'): FieldError[] {
	if (name === undefined || name === '') return [fieldError(field, 'a snapshot needs a name', 'e.g. plasma-tui snapshot save s1')];
	if (!NAME_PATTERN.test(name)) return [fieldError(field, `"${name.slice(0, 60)}" is not a snapshot name`, 'use 1-40 letters, digits, ".", "_" or "-", starting with a letter or digit')];
	if (name === PRE_RESTORE_TAG) return [fieldError(field, `"${name}" is the tag restore uses for its own rollback`, 'choose another name')];
	return [];
}

const snapshotNodeSchema = z.strictObject({
	name: z.string(),
	role: z.string(),
	mac: z.string(),
	ip: z.string(),
	memoryMiB: z.number().int().positive(),
	vcpus: z.number().int().positive(),
	disk: z.strictObject({path: z.string(), sizeGiB: z.number(), backing: z.string().optional()}),
	// Whether the node's install had finished when it was saved (carried back into the state file).
	installed: z.boolean(),
	// QEMU's vm-state-size of the internal snapshot: the saved RAM and device state.
	vmStateBytes: z.number().int().nonnegative(),
	// How much the node's disk file grew by the save (the snapshot's share of the file).
	diskGrowthBytes: z.number().int(),
});

export const snapshotMetaSchema = z.strictObject({
	version: z.literal(1),
	name: z.string(),
	profile: z.string(),
	// When every node was paused (the first pause).
	takenAt: z.string(),
	accel: z.enum(['kvm', 'tcg']),
	nodes: z.array(snapshotNodeSchema),
	// How far apart the nodes' pauses were (QEMU's own STOP event times).
	pauseSpreadMs: z.number().nonnegative(),
	// How long the cluster stood still: first pause to last resume.
	pausedMs: z.number().nonnegative(),
	// The save of every node, in parallel, while paused.
	saveMs: z.number().nonnegative(),
});

export type SnapshotNode = z.infer<typeof snapshotNodeSchema>;
export type SnapshotMeta = z.infer<typeof snapshotMetaSchema>;

export function snapshotFileFor(plan: Pick<Plan, 'snapshotsDir'>, name: string): string {
	return path.join(plan.snapshotsDir, `${name}.json`);
}

// What the snapshot costs on disk: the growth of each node's disk file by the save (the saved RAM
// lives inside it); QEMU's vm-state-size when the file did not grow (it reused freed clusters).
export function snapshotSizeBytes(meta: SnapshotMeta): number {
	return meta.nodes.reduce((sum, node) => sum + (node.diskGrowthBytes > 0 ? node.diskGrowthBytes : node.vmStateBytes), 0);
}

export function formatBytes(bytes: number): string {
	if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
	if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
	return `${(bytes / 2 ** 10).toFixed(0)} KiB`;
}

// The node as the plan has it now, in the snapshot's terms (sizes and install state are the caller's).
export function snapshotNodeOf(node: Plan['nodes'][number]): Omit<SnapshotNode, 'installed' | 'vmStateBytes' | 'diskGrowthBytes'> {
	return {name: node.name, role: node.role, mac: node.mac, ip: node.ip, memoryMiB: node.memoryMiB, vcpus: node.vcpus, disk: {path: node.disk.path, sizeGiB: node.disk.sizeGiB, backing: node.disk.backing}};
}

// What changed between the plan the snapshot was taken from and the plan now, in the operator's words;
// empty when the snapshot can be restored. A node's RAM holds its MAC, IP and role as they were, and
// QEMU loads a snapshot only into the same machine (memory, vCPUs, disk, accelerator).
export function snapshotChanges(meta: SnapshotMeta, plan: Pick<Plan, 'nodes' | 'accel' | 'profileName'>): string[] {
	const changes: string[] = [];
	const then = meta.nodes.map(n => n.name);
	const now = plan.nodes.map(n => n.name);
	if (then.join(',') !== now.join(',')) {
		changes.push(`node set: the snapshot has ${then.length} node(s) (${then.join(', ')}), the profile has ${now.length} (${now.join(', ')})`);
	}
	if (meta.accel !== plan.accel) changes.push(`accelerator: the snapshot was taken under ${meta.accel.toUpperCase()}, this run uses ${plan.accel.toUpperCase()}`);
	for (const saved of meta.nodes) {
		const node = plan.nodes.find(n => n.name === saved.name);
		if (!node) continue;
		const current = snapshotNodeOf(node);
		const differs = (what: string, a: unknown, b: unknown) => {
			if (JSON.stringify(a) !== JSON.stringify(b)) changes.push(`${saved.name} ${what}: ${describe(a)} in the snapshot, ${describe(b)} now`);
		};
		differs('MAC', saved.mac, current.mac);
		differs('IP', saved.ip, current.ip);
		differs('role', saved.role, current.role);
		differs('memory (MiB)', saved.memoryMiB, current.memoryMiB);
		differs('vCPUs', saved.vcpus, current.vcpus);
		differs('disk layout', saved.disk, current.disk);
	}
	return changes;
}

function describe(value: unknown): string {
	if (typeof value === 'object' && value !== null) {
		const disk = value as SnapshotNode['disk'];
		return `${disk.path} ${disk.sizeGiB} GiB${disk.backing ? ` on ${disk.backing}` : ''}`;
	}
	return String(value);
}

// What the snapshot list shows per snapshot (TUI and `snapshot list`).
export type SnapshotRow = {name: string; takenAt: string; nodes: number; sizeBytes: number};

export function snapshotRow(meta: SnapshotMeta): SnapshotRow {
	return {name: meta.name, takenAt: meta.takenAt, nodes: meta.nodes.length, sizeBytes: snapshotSizeBytes(meta)};
}

// A fresh name for a save from the TUI: snap-YYYYMMDD-HHMMSS (UTC), unique per second.
export function timedSnapshotName(at: Date): string {
	const iso = at.toISOString();
	return `snap-${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}

// What an earlier snapshot operation that never finished left, in words ("node01 paused, node02 saved").
export function describeOperation(op: {action: string; name: string; pid: number; startedAt: string; nodes: Record<string, string>}): string {
	return `an earlier \`snapshot ${op.action} ${op.name}\` (pid ${op.pid}, started ${op.startedAt}) did not finish: ${Object.entries(op.nodes).map(([node, where]) => `${node} ${where}`).join(', ')}`;
}

// Where a restore's time went, for its last line and the bench: each part, every node's SSH
// answer and clock step (from the resume), and the slowest checks.
export type RestoreTimings = {pauseMs: number; asideMs: number; loadMs: number; sshMs: number; checksMs: number; totalMs: number; nodes?: Record<string, {answeredMs: number; clockMs: number}>};

export function formatRestoreTimings(t: RestoreTimings, report?: {results: ReadonlyArray<{check: string; node?: string; durationMs: number}>}): string {
	const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
	const nodes = Object.entries(t.nodes ?? {}).sort(([a], [b]) => a.localeCompare(b));
	const perNode = nodes.length > 0 ? ` (${nodes.map(([name, n]) => `${name} ${s(n.answeredMs)}+${s(n.clockMs)}`).join(', ')})` : '';
	// A check that ran on several nodes counts with its slowest node.
	const byCheck = new Map<string, number>();
	for (const r of report?.results ?? []) byCheck.set(r.check, Math.max(byCheck.get(r.check) ?? 0, r.durationMs));
	const slowest = [...byCheck].sort((a, b) => b[1] - a[1]).slice(0, 3);
	const checks = slowest.length > 0 ? ` (slowest: ${slowest.map(([name, ms]) => `${name} ${s(ms)}`).join(', ')})` : '';
	return `pause ${t.pauseMs} ms, save aside ${t.asideMs} ms, load+resume ${t.loadMs} ms, ssh+clock ${t.sshMs} ms${perNode}, checks ${t.checksMs} ms${checks}`;
}

// The checks a restore did not run, and how to run them: said on the restore's last line.
export function restoreLeftOut(left: ReadonlyArray<{check: string; why: string}>): string {
	if (left.length === 0) return '';
	return ` (not run: ${left.map(l => `${l.check}: ${l.why}`).join('; ')}; snapshot restore --full runs ${left.length === 1 ? 'it' : 'them'} too)`;
}
