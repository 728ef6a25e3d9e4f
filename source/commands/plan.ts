import {formatPlan} from '../model/plan-format.js';
import {formatProblems} from '../model/field-error.js';
import {formatBytes, snapshotSizeBytes} from '../model/snapshot.js';
import {listSnapshots} from '../services/snapshots.js';
import {EXIT, planFor, profileFromOptions} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'plan');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	if (values['json']) console.log(JSON.stringify(plan, null, 2));
	else {
		console.log(formatPlan(plan));
		const {snapshots} = await listSnapshots(plan);
		if (snapshots.length > 0) {
			console.log(`\nSnapshots (kept until snapshot delete or down --purge):`);
			for (const meta of snapshots) console.log(`  ${meta.name}  taken ${meta.takenAt}, ${meta.nodes.length} nodes, ${formatBytes(snapshotSizeBytes(meta))}`);
		}
	}
	if (plan.problems.length > 0) {
		console.error(formatProblems(plan.problems));
		return EXIT.badInput;
	}
	return EXIT.ok;
};
