import type {CommandRun} from './registry.js';

export const run: CommandRun = async () => {
	console.error('plasma-tui up: not implemented yet');
	return 70;
};
