import type {CommandRun} from './registry.js';

export const run: CommandRun = async () => {
	console.error('plasma-tui certs: not implemented yet');
	return 70;
};
