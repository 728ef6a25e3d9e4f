import {createInterface} from 'node:readline/promises';
import {formatProblem, formatProblems, problemOf} from '../model/field-error.js';
import {readState} from '../services/state.js';
import {purgeInventory, teardown} from '../services/teardown.js';
import {EXIT, planFor, profileFromOptions, underWorkLock} from './common.js';
import type {CommandRun} from './registry.js';

// Fields whose problem means `down` must not act on the paths at all (a workDir of / or $HOME).
const GUARDED_FIELDS = new Set(['workDir', 'network.vdeSocket']);

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'down');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	const guarded = plan.problems.filter(problem => problem.field !== undefined && GUARDED_FIELDS.has(problem.field));
	if (guarded.length > 0) {
		console.error(`plasma-tui down: nothing was stopped or removed:\n${formatProblems(guarded)}`);
		return EXIT.badInput;
	}
	if (plan.target.kind === 'ssh-hosts') return (await import('./down-ssh-hosts.js')).runDownSshHosts(profile, plan, values);
	const purge = values['purge'] === true;
	if (purge && values['yes'] !== true && !(await confirmPurge(plan))) return EXIT.badInput;
	return underWorkLock(plan, 'down', async () => {
		// A state file down cannot read is left as it is; the nodes are still found by their pidfiles.
		const badState = await readState(plan.stateFile).then(() => undefined, problemOf);
		const report = await teardown(plan, {purge});
		for (const item of report.stopped) console.log(`stopped ${item}`);
		for (const item of report.removed) console.log(`removed ${item}`);
		for (const item of report.refused ?? []) console.error(`refused: ${item}`);
		for (const item of report.notStopped) console.error(`not stopped ${item}`);
		if (report.notStopped.length > 0) {
			const problem = {message: `${report.notStopped.length} process(es) of "${profile.name}" still run; their sockets and state entries were kept`, fix: 'stop them as the user that started them (e.g. with sudo), then run down again'};
			console.error(`plasma-tui down: ${formatProblem(problem)}`);
		}
		if (report.stopped.length === 0 && report.notStopped.length === 0) console.log(`nothing of "${profile.name}" was running`);
		if (badState) console.error(`plasma-tui down: ${formatProblem(badState)}`);
		return badState || report.notStopped.length > 0 || (report.refused ?? []).length > 0 ? EXIT.failed : EXIT.ok;
	});
};

// Lists what --purge deletes; on a terminal asks, headless needs --yes.
async function confirmPurge(plan: Parameters<typeof purgeInventory>[0]): Promise<boolean> {
	const inventory = await purgeInventory(plan);
	console.log(`down --purge stops the cluster and deletes the work directory ${inventory.workDir}, with:`);
	for (const item of inventory.items) console.log(`  ${item}`);
	if (inventory.items.length === 0) console.log('  (no disks, certificates or keys yet)');
	if (!inventory.marked) console.log(`  (it has no .plasma-tui-owned marker: plasma-tui did not make it, so it will be left in place)`);
	if (process.stdin.isTTY && process.stdout.isTTY) {
		const prompt = createInterface({input: process.stdin, output: process.stdout});
		try {
			if (/^y(es)?$/i.test((await prompt.question('Delete all of this? [y/N] ')).trim())) return true;
		} finally {
			prompt.close();
		}
		console.log('nothing was stopped or deleted');
		return false;
	}
	console.error(`plasma-tui down: ${formatProblem({field: '--purge', message: 'deletes everything listed above and needs a confirmation; nothing was stopped or deleted', fix: 'add --yes'})}`);
	return false;
}
