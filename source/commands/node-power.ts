import {EXIT} from './common.js';
import type {CommandRun} from './registry.js';

// Placeholder until this action lands: says so and fails, never pretends.
export const run: CommandRun = async ({positionals}) => {
	console.error(`plasma-tui node ${positionals[0] ?? ''}: not available in this version`);
	return EXIT.failed;
};
