import {FAULT_USAGE, parseFault} from '../model/fault.js';
import {formatProblem, problemOf} from '../model/field-error.js';
import {EXIT, planFor, vmProfileFromOptions, underWorkLock} from './common.js';
import type {CommandRun} from './registry.js';

// `plasma-tui fault ACTION ...`: one fault on a running cluster, or heal/thaw.
export const run: CommandRun = async ({values, positionals}) => {
	if (positionals.length === 0) {
		console.error(FAULT_USAGE);
		return EXIT.badInput;
	}
	const profile = await vmProfileFromOptions(values, 'fault');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	const parsed = parseFault(positionals, plan.nodes.map(n => n.name));
	if (!parsed.ok) {
		console.error(`plasma-tui ${parsed.message}\n${FAULT_USAGE}`);
		return EXIT.badInput;
	}
	return underWorkLock(plan, 'fault', async () => {
		const {applyFault} = await import('../engine/faults.js');
		try {
			const outcome = await applyFault(plan, parsed.request, {force: values['force'] === true, onVerdict: verdict => console.log(`quorum guard: ${verdict.message}`)});
			for (const line of outcome.done) console.log(line);
			if (outcome.done.length === 0) console.log(`nothing to ${parsed.request.action}: no such fault is active`);
			return EXIT.ok;
		} catch (error) {
			console.error(`plasma-tui fault: ${formatProblem(problemOf(error))}`);
			return EXIT.failed;
		}
	});
};
