import fs from 'node:fs/promises';
import path from 'node:path';
import {formatProblem, formatProblems, problemOf} from '../model/field-error.js';
import {formatRehearsal, rehearsalFiles} from '../model/rehearsal-report.js';
import {parseScenario} from '../model/scenario.js';
import {scenariosDir} from '../services/paths.js';
import {abortOnSignals} from './interrupt.js';
import {EXIT, planFor, vmProfileFromOptions, underWorkLock} from './common.js';
import type {CommandRun} from './registry.js';

// `plasma-tui rehearse SCENARIO`: a file, or the name of a shipped scenario.
export const run: CommandRun = async ({values, positionals}) => {
	const [wanted, ...extra] = positionals;
	if (!wanted || extra.length > 0) {
		console.error(`usage: plasma-tui rehearse SCENARIO.json (or a shipped one: ${(await shippedScenarios()).join(', ')})`);
		return EXIT.badInput;
	}
	const profile = await vmProfileFromOptions(values, 'rehearse');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	const file = /[/\\]|\.json$/.test(wanted) ? path.resolve(wanted) : path.join(scenariosDir(), `${wanted}.json`);
	let json: unknown;
	try {
		json = JSON.parse(await fs.readFile(file, 'utf8'));
	} catch (error) {
		const problem = problemOf(error);
		console.error(`plasma-tui rehearse: ${formatProblem({field: file, message: problem.message, fix: `give a scenario file, or one of ${(await shippedScenarios()).join(', ')}`})}`);
		return EXIT.badInput;
	}
	const parsed = parseScenario(json, plan.nodes.map(n => n.name));
	if (!parsed.ok) {
		console.error(`plasma-tui rehearse: ${file} has problems:\n${formatProblems(parsed.errors)}`);
		return EXIT.badInput;
	}
	return underWorkLock(plan, 'rehearse', async () => {
		const {rehearse} = await import('../engine/rehearse.js');
		// Interrupted, the scenario stops after its current step and still heals and thaws what it did.
		const controller = new AbortController();
		const release = abortOnSignals(controller);
		const report = await rehearse(profile, plan, parsed.scenario, {force: values['force'] === true, onLine: line => console.log(line), signal: controller.signal}).finally(release);
		const files = rehearsalFiles(plan, report.scenario);
		console.log(`\n${formatRehearsal(report)}report: ${files.json}, ${files.text}`);
		return report.ok && report.leftActive === 0 ? EXIT.ok : EXIT.failed;
	});
};

async function shippedScenarios(): Promise<string[]> {
	const names = await fs.readdir(scenariosDir()).catch(() => [] as string[]);
	return names.filter(name => name.endsWith('.json')).map(name => name.slice(0, -5));
}
