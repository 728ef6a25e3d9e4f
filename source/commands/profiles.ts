import {formatProblem, formatProblems, ProblemError} from '../model/field-error.js';
import {listTemplates, loadTemplate, readProfileFile, shadowedTemplates, shadowNote, writeProfileFile} from '../services/profiles.js';
import {validatedPlan} from '../model/validated-plan.js';
import {EXIT, planContext, profileStore} from './common.js';
import type {CommandRun} from './registry.js';

const USAGE = 'usage: plasma-tui profiles [list | export NAME FILE | import FILE | rename FROM TO | delete NAME]';

export const run: CommandRun = async ({positionals}) => {
	const [action = 'list', ...args] = positionals;
	try {
		return await dispatch(action, args);
	} catch (error) {
		if (!(error instanceof ProblemError)) throw error;
		console.error(`plasma-tui profiles: ${formatProblem(error.problem)}`);
		return EXIT.failed;
	}
};

async function dispatch(action: string, args: string[]): Promise<number> {
	const store = profileStore();
	switch (action) {
		case 'list': {
			const saved = store.list();
			const shadowed = shadowedTemplates(saved);
			console.log('saved profiles:');
			for (const name of saved) console.log(`  ${name}${shadowed.has(name) ? ` (saved; shadows the template ${name})` : ''}`);
			if (saved.length === 0) console.log('  (none yet: "plasma-tui init" or the wizard saves one)');
			console.log('templates:');
			for (const name of listTemplates()) console.log(`  ${name}${shadowed.has(name) ? ` (shadowed: --profile ${name} uses the saved profile)` : ''}`);
			return EXIT.ok;
		}
		case 'export': {
			const [name, file] = args;
			if (!name || !file) return usage();
			const result = store.has(name) ? store.load(name) : loadTemplate(name);
			if (store.has(name) && listTemplates().includes(name)) console.error(`plasma-tui profiles: ${shadowNote(name, `export ${name}`)}`);
			if (!result.ok) return invalid(result.errors);
			await writeProfileFile(file, result.profile);
			console.log(`exported ${name} to ${file}`);
			return EXIT.ok;
		}
		case 'import': {
			const [file] = args;
			if (!file) return usage();
			const read = await readProfileFile(file);
			// The plan's problems too (an unknown placeholder, a socket path too long): nothing is saved with them.
			const result = read.ok ? validatedPlan(read.profile, planContext()) : read;
			if (!result.ok) return invalid(result.errors);
			store.save(result.profile);
			console.log(`imported ${result.profile.name} from ${file}`);
			return EXIT.ok;
		}
		case 'rename': {
			const [from, to] = args;
			if (!from || !to) return usage();
			const errors = store.rename(from, to);
			if (errors.length > 0) return invalid(errors);
			console.log(`renamed ${from} to ${to}`);
			return EXIT.ok;
		}
		case 'delete': {
			const [name] = args;
			if (!name) return usage();
			if (!store.delete(name)) {
				console.error(`plasma-tui profiles: no saved profile named "${name}"`);
				return EXIT.badInput;
			}
			console.log(`deleted ${name}`);
			return EXIT.ok;
		}
		default:
			return usage();
	}
}

function usage(): number {
	console.error(USAGE);
	return EXIT.badInput;
}

function invalid(errors: Parameters<typeof formatProblems>[0]): number {
	console.error(`plasma-tui profiles: the profile has problems:\n${formatProblems(errors)}`);
	return EXIT.badInput;
}
