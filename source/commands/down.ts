import {formatProblem, problemOf} from '../model/field-error.js';
import {readState} from '../services/state.js';
import {teardown} from '../services/teardown.js';
import {EXIT, planFor, profileFromOptions, underWorkLock} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'down');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	return underWorkLock(plan, 'down', async () => {
		// A state file down cannot read is left as it is; the nodes are still found by their pidfiles.
		const badState = await readState(plan.stateFile).then(() => undefined, problemOf);
		const report = await teardown(plan, {purge: values['purge'] === true});
		for (const item of report.stopped) console.log(`stopped ${item}`);
		for (const item of report.removed) console.log(`removed ${item}`);
		if (report.stopped.length === 0) console.log(`nothing of "${profile.name}" was running`);
		if (badState) {
			console.error(`plasma-tui down: ${formatProblem(badState)}`);
			return EXIT.failed;
		}
		return EXIT.ok;
	});
};
