import {plainEventPrinter} from '../model/events.js';
import {formatProblem, problemOf} from '../model/field-error.js';
import {findNode, nodePowerVerdict, powerNode, type NodePowerAction} from '../engine/node-power.js';
import {readState} from '../services/state.js';
import {EXIT, planFor, vmProfileFromOptions, underWorkLock} from './common.js';
import {abortOnSignals} from './interrupt.js';
import type {CommandRun} from './registry.js';

// `plasma-tui node stop|start|restart NAME`: the quorum guard speaks first; a stop
// or restart that loses quorum is refused without --force.
export const run: CommandRun = async ({values, positionals}) => {
	const [action, name] = positionals as [NodePowerAction, string | undefined];
	const command = `node ${action}`;
	if (!name) {
		console.error(`plasma-tui ${command}: ${formatProblem({field: 'NAME', message: 'which node?', fix: `plasma-tui node ${action} NAME`})}`);
		return EXIT.badInput;
	}
	const profile = await vmProfileFromOptions(values, command);
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	try {
		findNode(plan, name);
	} catch (error) {
		console.error(`plasma-tui ${command}: ${formatProblem(problemOf(error))}`);
		return EXIT.badInput;
	}
	return underWorkLock(plan, command, async () => {
		const state = await readState(plan.stateFile).catch(() => undefined);
		const verdict = await nodePowerVerdict(plan, name, action, state);
		if (action === 'start') console.log(verdict.message);
		else {
			if (verdict.losesQuorum && values['force'] !== true) {
				console.error(`plasma-tui ${command}: ${formatProblem({message: `${verdict.message}; nothing was stopped`, fix: `add --force to ${action} it anyway`})}`);
				return EXIT.badInput;
			}
			console.log(verdict.message);
		}
		const controller = new AbortController();
		const releaseSignals = abortOnSignals(controller);
		try {
			const outcome = await powerNode(profile, plan, name, action, {signal: controller.signal, onEvent: plainEventPrinter(line => console.log(line))});
			console.log(`${name}: ${outcome}`);
			return EXIT.ok;
		} catch (error) {
			console.error(`plasma-tui ${command}: ${formatProblem(problemOf(error))}`);
			return EXIT.failed;
		} finally {
			releaseSignals();
		}
	});
};
