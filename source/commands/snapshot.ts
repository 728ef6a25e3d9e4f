import {formatProblem, problemOf} from '../model/field-error.js';
import {plainEventPrinter} from '../model/events.js';
import {formatBytes, formatRestoreTimings, restoreLeftOut, snapshotSizeBytes} from '../model/snapshot.js';
import {formatReport} from '../engine/validation.js';
import {listSnapshots} from '../services/snapshots.js';
import {EXIT, planFor, vmProfileFromOptions, underWorkLock} from './common.js';
import {abortOnSignals} from './interrupt.js';
import type {CommandRun} from './registry.js';

// `plasma-tui snapshot save|list|restore|delete NAME`: the whole cluster at one instant.
const USAGE = 'usage: plasma-tui snapshot save NAME | list | restore NAME [--rollback] [--full] | delete NAME [--profile NAME | --profile-file PATH]';

export const run: CommandRun = async ({values, positionals}) => {
	const [action, name] = positionals;
	if (!action || !['save', 'list', 'restore', 'delete'].includes(action)) {
		console.error(action === undefined ? USAGE : `plasma-tui snapshot: unknown action "${action}"\n${USAGE}`);
		return EXIT.badInput;
	}
	const command = `snapshot ${action}`;
	if (values['rollback'] === true && values['no-rollback'] === true) {
		console.error(`plasma-tui ${command}: ${formatProblem({message: '--rollback and --no-rollback contradict each other', fix: 'keep one; without either there is no rollback copy'})}`);
		return EXIT.badInput;
	}
	const profile = await vmProfileFromOptions(values, command);
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	if (action === 'list') return list(plan, values['json'] === true);
	const onEvent = plainEventPrinter(line => console.log(line), {skip: event => event.type === 'check' && event.status === 'waiting'});
	const controller = new AbortController();
	const releaseSignals = abortOnSignals(controller);
	try {
		return await underWorkLock(plan, command, async () => {
			try {
				if (action === 'save') {
					const {saveSnapshot} = await import('../engine/snapshot.js');
					const meta = await saveSnapshot(profile, plan, name, {onEvent});
					console.log(`saved ${meta.name}: ${meta.nodes.length} nodes paused within ${meta.pauseSpreadMs} ms, cluster paused ${(meta.pausedMs / 1000).toFixed(2)} s (its wall clock gap), save ${meta.saveMs} ms, ${formatBytes(snapshotSizeBytes(meta))}`);
					return EXIT.ok;
				}
				if (action === 'delete') {
					const {deleteSnapshot} = await import('../engine/snapshot.js');
					await deleteSnapshot(profile, plan, name, {onEvent});
					console.log(`deleted ${name}`);
					return EXIT.ok;
				}
				const {restoreSnapshot} = await import('../engine/snapshot-restore.js');
				const restored = await restoreSnapshot(profile, plan, name, {onEvent, signal: controller.signal, rollback: values['rollback'] === true, full: values['full'] === true});
				const t = restored.timings;
				if (restored.report) console.log(`\n${formatReport(restored.report)}`);
				const ok = restored.report?.ok ?? profile.checks.length === 0;
				const checked = restored.report?.results.length ?? 0;
				const verdict = `${ok ? `all ${checked} checks green` : 'checks NOT green'}${restoreLeftOut(restored.left)}`;
				console.log(`restored ${name} (taken ${restored.meta.takenAt}) in ${(t.totalMs / 1000).toFixed(2)} s: ${formatRestoreTimings(t, restored.report)}; ${verdict}`);
				return ok ? EXIT.ok : EXIT.failed;
			} catch (error) {
				// Refusals and failures alike: the problem's text, with its fix.
				console.error(`plasma-tui ${command}: ${formatProblem(problemOf(error))}`);
				return EXIT.failed;
			}
		});
	} finally {
		releaseSignals();
	}
};

async function list(plan: ReturnType<typeof planFor>, json: boolean): Promise<number> {
	const {snapshots, bad} = await listSnapshots(plan);
	if (json) console.log(JSON.stringify(snapshots.map(s => ({...s, sizeBytes: snapshotSizeBytes(s)})), null, 2));
	else if (snapshots.length === 0) console.log(`no snapshots of "${plan.profileName}" (${plan.snapshotsDir})`);
	else {
		console.log('NAME                 TAKEN                     NODES  SIZE      PAUSE SPREAD');
		for (const s of snapshots) console.log(`${s.name.padEnd(20)} ${s.takenAt.padEnd(25)} ${String(s.nodes.length).padEnd(6)} ${formatBytes(snapshotSizeBytes(s)).padEnd(9)} ${s.pauseSpreadMs} ms`);
	}
	for (const line of bad) console.error(`plasma-tui snapshot list: ${line}`);
	return bad.length > 0 ? EXIT.failed : EXIT.ok;
}
