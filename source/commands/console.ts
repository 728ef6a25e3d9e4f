import {tailFile} from '../services/console-tail.js';
import {formatProblem, problemOf} from '../model/field-error.js';
import type {NodePlan, Plan} from '../model/plan.js';
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
	if (node.sshHost) return hostConsole(plan, node, values['no-follow'] !== true);
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

// An existing machine has no serial console here: its log over SSH instead.
async function hostConsole(plan: Plan, node: NodePlan, follow: boolean): Promise<number> {
	const {followHostLog} = await import('../services/host-console.js');
	const stop = new AbortController();
	const onSignal = () => stop.abort();
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	try {
		const code = await followHostLog(plan, node, {follow, signal: stop.signal, onLine: line => process.stdout.write(`${line}\n`)});
		return code === 0 || stop.signal.aborted ? EXIT.ok : EXIT.failed;
	} catch (error) {
		console.error(`plasma-tui console: ${formatProblem(problemOf(error))}`);
		return EXIT.failed;
	} finally {
		process.removeListener('SIGINT', onSignal);
		process.removeListener('SIGTERM', onSignal);
	}
}
