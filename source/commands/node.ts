import {EXIT} from './common.js';
import type {CommandRun} from './registry.js';

// `plasma-tui node ACTION NAME`: one node of a running cluster. Power actions
// (stop, start, restart) and membership (add, remove) live in their own modules.
const USAGE = 'usage: plasma-tui node stop|start|restart NAME | node add [--role worker|control-plane] | node remove NAME';

export const run: CommandRun = async input => {
	const [action] = input.positionals;
	switch (action) {
		case 'stop':
		case 'start':
		case 'restart':
			return (await import('./node-power.js')).run(input);
		case 'add':
		case 'remove':
			return (await import('./node-membership.js')).run(input);
		default:
			console.error(action === undefined ? USAGE : `plasma-tui node: unknown action "${action}"\n${USAGE}`);
			return EXIT.badInput;
	}
};
