import {teardown} from '../services/teardown.js';
import {EXIT, planFor, profileFromOptions, underWorkLock} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'down');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	return underWorkLock(plan, 'down', async () => {
		const report = await teardown(plan, {purge: values['purge'] === true});
		for (const item of report.stopped) console.log(`stopped ${item}`);
		for (const item of report.removed) console.log(`removed ${item}`);
		if (report.stopped.length === 0) console.log(`nothing of "${profile.name}" was running`);
		return EXIT.ok;
	});
};
