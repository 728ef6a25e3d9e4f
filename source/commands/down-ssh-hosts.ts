import {createInterface} from 'node:readline/promises';
import {formatProblem} from '../model/field-error.js';
import type {Plan} from '../model/plan.js';
import type {Profile} from '../model/profile-schema.js';
import {downSshHosts, hostsDownInventory} from '../engine/down-ssh-hosts.js';
import {removeOwnedDir} from '../services/owned-dir.js';
import {EXIT, underWorkLock} from './common.js';
import type {CommandOptions} from './registry.js';

// `down` of a profile whose target is existing machines: it changes them, so it
// lists what it will run and remove and asks first (headless: --yes). --purge
// then deletes only local files (the work directory), never anything on a machine.
export async function runDownSshHosts(profile: Profile, plan: Plan, values: CommandOptions): Promise<number> {
	const purge = values['purge'] === true;
	console.log(`down on ${plan.nodes.length} existing machines of "${profile.name}" powers nothing off; it runs and removes:`);
	for (const line of hostsDownInventory(plan)) console.log(`  ${line}`);
	if (purge) console.log(`  then, on this host only: delete the work directory ${plan.workDir}`);
	if (values['yes'] !== true && !(await askYes())) return EXIT.badInput;
	return underWorkLock(plan, 'down', async () => {
		const reports = await downSshHosts(plan, profile.name);
		for (const report of reports) {
			for (const item of report.done) console.log(`${report.node}: ${item}`);
			for (const item of report.failed) console.error(`${report.node}: not done: ${item}`);
		}
		const failed = reports.filter(r => r.failed.length > 0);
		if (purge) {
			const outcome = await removeOwnedDir(plan.workDir);
			if (outcome === 'removed') console.log(`removed ${plan.workDir}`);
			else if (outcome !== 'absent') console.error(`refused: ${outcome.refused}`);
		}
		if (failed.length > 0) console.error(`plasma-tui down: ${formatProblem({message: `${failed.map(r => r.node).join(', ')} not fully cleaned`, fix: 'make the machines reachable (and their host keys pinned), then run down again'})}`);
		return failed.length > 0 ? EXIT.failed : EXIT.ok;
	});
}

async function askYes(): Promise<boolean> {
	if (process.stdin.isTTY && process.stdout.isTTY) {
		const prompt = createInterface({input: process.stdin, output: process.stdout});
		try {
			if (/^y(es)?$/i.test((await prompt.question('Go ahead on these machines? [y/N] ')).trim())) return true;
		} finally {
			prompt.close();
		}
		console.log('nothing was changed');
		return false;
	}
	console.error(`plasma-tui down: ${formatProblem({field: '--yes', message: 'down changes existing machines and needs a confirmation; nothing was changed', fix: 'add --yes'})}`);
	return false;
}
