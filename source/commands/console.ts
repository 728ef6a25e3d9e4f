import {tailFile} from '../services/console-tail.js';
import {EXIT, planFor, profileFromOptions} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values, positionals}) => {
	const profile = await profileFromOptions(values, 'console');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	const name = positionals[0];
	const node = plan.nodes.find(n => n.name === name);
	if (!node) {
		console.error(`plasma-tui console: ${name ? `no node named "${name}"` : 'name a node'} in ${profile.name}; nodes: ${plan.nodes.map(n => n.name).join(', ')}`);
		return EXIT.badInput;
	}
	const tail = tailFile(node.runtime.consoleLog, {fromStart: true, onLines: lines => process.stdout.write(`${lines.join('\n')}\n`)});
	if (values['no-follow']) {
		await new Promise(resolve => setTimeout(resolve, 150));
		tail.stop();
		await tail.done;
		return EXIT.ok;
	}
	await new Promise<void>(resolve => {
		process.once('SIGINT', () => resolve());
		process.once('SIGTERM', () => resolve());
	});
	tail.stop();
	await tail.done;
	return EXIT.ok;
};
