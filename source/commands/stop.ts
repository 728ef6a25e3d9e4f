import {plainEventPrinter} from '../model/events.js';
import {formatProblem} from '../model/field-error.js';
import {stopCluster} from '../engine/cluster-power.js';
import {EXIT, planFor, vmProfileFromOptions, underWorkLock} from './common.js';
import type {CommandRun} from './registry.js';

// `plasma-tui stop`: every node powers down cleanly; disks, certificates and the state file stay for `start`.
export const run: CommandRun = async ({values}) => {
	const profile = await vmProfileFromOptions(values, 'stop');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	return underWorkLock(plan, 'stop', async () => {
		const result = await stopCluster(profile.name, plan, {onEvent: plainEventPrinter(line => console.log(line))});
		for (const item of result.notStopped) console.error(`not stopped ${item}`);
		if (result.notStopped.length > 0) {
			console.error(`plasma-tui stop: ${formatProblem({message: `${result.notStopped.length} process(es) of "${profile.name}" still run`, fix: `plasma-tui down --profile ${profile.name} stops them by force`})}`);
			return EXIT.failed;
		}
		console.log(`stopped after ${(result.ms / 1000).toFixed(1)} s: ${result.stopped.join(', ') || 'nothing was running'}; disks and state kept`);
		console.log(`next: plasma-tui start --profile ${profile.name}`);
		return EXIT.ok;
	});
};
