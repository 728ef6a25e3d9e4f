import {formatProblem} from '../model/field-error.js';
import {teardown} from '../services/teardown.js';
import {EXIT, planFor, profileFromOptions} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'down');
	if (!profile) return EXIT.badInput;
	const report = await teardown(planFor(profile), {purge: values['purge'] === true});
	for (const item of report.stopped) console.log(`stopped ${item}`);
	for (const item of report.removed) console.log(`removed ${item}`);
	for (const item of report.notStopped) console.error(`not stopped ${item}`);
	if (report.notStopped.length > 0) {
		const problem = {message: `${report.notStopped.length} process(es) of "${profile.name}" still run; their sockets and state entries were kept`, fix: 'stop them as the user that started them (e.g. with sudo), then run down again'};
		console.error(`plasma-tui down: ${formatProblem(problem)}`);
		return EXIT.failed;
	}
	if (report.stopped.length === 0) console.log(`nothing of "${profile.name}" was running`);
	return EXIT.ok;
};
