import {readState} from '../services/state.js';
import {formatProblem, problemOf} from '../model/field-error.js';
import {EXIT, planFor, vmProfileFromOptions} from './common.js';
import {bringUp} from './up.js';
import type {CommandRun} from './registry.js';

// `plasma-tui start`: a stopped cluster (by `stop`, or by a host reboot) boots again from its disks.
export const run: CommandRun = async ({values}) => {
	const profile = await vmProfileFromOptions(values, 'start');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	const state = await readState(plan.stateFile).catch((error: unknown) => {
		console.error(`plasma-tui start: ${formatProblem(problemOf(error))}`);
		return null;
	});
	if (state === null) return EXIT.failed;
	if (!state || !Object.values(state.nodes).some(node => node.installed)) {
		console.error(`plasma-tui start: ${formatProblem({message: `"${profile.name}" has no installed cluster to start (${plan.stateFile})`, fix: `bring it up first: plasma-tui up --profile ${profile.name} --yes`})}`);
		return EXIT.notReady;
	}
	return bringUp(profile, values, 'start');
};
