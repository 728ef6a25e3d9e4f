import enquirer from 'enquirer';
import type {Profile} from '../model/profile-schema.js';
import {formatProblem, formatProblems, printable, type FieldError} from '../model/field-error.js';
import {checkName, checkPort} from '../model/check-name.js';
import {freeProfileName, saveConflict} from '../model/profile-name.js';
import {validateProfile} from '../model/profile-rules.js';
import {resolveNodes} from '../model/resolve.js';
import {KEY_TYPES, KEY_TYPE_LABELS, setCheckCell, setNodeCell, setNodeCount, setValidityDays, type CheckCell, type NodeCell} from '../model/draft-edits.js';
import {hostChecks} from '../services/host-checks.js';
import {listTemplates, loadTemplate} from '../services/profiles.js';
import {EXIT, profileStore} from '../commands/common.js';

// Line-by-line questions for terminals where a full-screen UI cannot run
// (TERM=dumb, screen readers, a serial line). Same model, same checks, same
// messages as the wizard; a field with a problem is asked again.

type Ask = (question: Record<string, unknown>) => Promise<Record<string, string>>;
const ask: Ask = question => enquirer.prompt(question as never) as Promise<Record<string, string>>;

// enquirer's confirm answers true or false, typed as the record's string.
const yes = (answer: unknown): boolean => answer === true || answer === 'true';

function problemFor(profile: Profile, field: RegExp | string): string | true {
	const error = validateProfile(profile).find(e => (typeof field === 'string' ? e.field === field : field.test(e.field)));
	return error ? formatProblem(error) : true;
}

export async function runPlainInit(options: {template?: string; ask?: Ask}): Promise<number> {
	// Piped answers can run out mid-way; say so instead of exiting as if all went well.
	const onEnd = () => {
		console.error('\nplasma-tui init: input ended before the profile was complete; nothing was saved');
		process.exitCode = EXIT.failed;
	};
	process.stdin.once('end', onEnd);
	try {
		return await askAll(options);
	} finally {
		process.stdin.off('end', onEnd);
	}
}

async function askAll(options: {template?: string; ask?: Ask}): Promise<number> {
	const prompt = options.ask ?? ask;
	const store = profileStore();
	const templates = listTemplates();
	const templateName = options.template ?? (await prompt({type: 'select', name: 'value', message: 'Start from template', choices: templates}))['value']!;
	const base = loadTemplate(templateName);
	if (!base.ok) {
		console.error(formatProblems(base.errors));
		return EXIT.badInput;
	}
	let profile: Profile = base.profile;
	// The answer is checked by the same functions as the wizard; a problem is printed and the question asked again.
	const textAsk = async (message: string, initial: string, check: (value: string) => string | true): Promise<string> => {
		for (;;) {
			const value = (await prompt({type: 'input', name: 'value', message, initial}))['value'] ?? '';
			const verdict = check(value);
			if (verdict === true) return value;
			console.log(verdict);
		}
	};

	// As in the wizard: a name of its own (NAME-2), and a name that replaces a saved profile or hides a template asks first.
	const saved = store.list();
	let name: string;
	for (;;) {
		name = await textAsk('Profile name', freeProfileName(templateName, [...saved, ...templates]), value => problemFor({...profile, name: value}, 'name'));
		const conflict = saveConflict(name, undefined, saved, templates);
		if (!conflict) break;
		const question = conflict.kind === 'replaces-saved' ? `A saved profile "${name}" exists. Replace it?` : `A template is named "${name}": --profile ${name} would use the saved profile instead. Save under this name anyway?`;
		const {value: replace} = await prompt({type: 'confirm', name: 'value', message: question, initial: false});
		if (yes(replace)) break;
	}
	profile = {...profile, name};
	const count = await textAsk('Number of nodes (1-16)', String(profile.nodes.length), value => {
		const next = setNodeCount(profile, value);
		return 'message' in next ? formatProblem(next) : true;
	});
	profile = setNodeCount(profile, count) as Profile;
	const subnet = await textAsk('Cluster subnet', profile.network.subnet, value => problemFor({...profile, network: {...profile.network, subnet: value}}, /^network\./));
	profile = {...profile, network: {...profile.network, subnet}};

	const {value: editNodes} = await prompt({type: 'confirm', name: 'value', message: 'Edit per-node IP, MAC, hostname or SSH port?', initial: false});
	if (yes(editNodes)) {
		for (let index = 0; index < profile.nodes.length; index++) {
			for (const cell of ['ip', 'mac', 'hostname', 'sshPort'] as NodeCell[]) {
				const auto = String(resolveNodes(profile)[index]![cell]);
				const value = await textAsk(`${profile.nodes[index]!.name} ${cell} (empty: ${auto})`, '', text => {
					if (text.trim() === '') return true;
					const next = setNodeCell(profile, index, cell, text);
					return 'message' in next ? formatProblem(next) : problemFor(next, `nodes[${index}].${cell}`);
				});
				if (value.trim() !== '') profile = setNodeCell(profile, index, cell, value) as Profile;
			}
		}
	}

	const keyChoice = (await prompt({type: 'select', name: 'value', message: 'Certificate key type', choices: KEY_TYPES.map(k => ({name: k, message: KEY_TYPE_LABELS[k]}))}))['value'] as Profile['tls']['keyType'];
	profile = {...profile, tls: {...profile.tls, keyType: KEY_TYPES.includes(keyChoice) ? keyChoice : 'ecdsa-p256'}};
	const validity = await textAsk('Certificate validity (days)', String(profile.tls.validityDays), value => {
		const next = setValidityDays(profile, value);
		return 'message' in next ? formatProblem(next) : problemFor(next, 'tls.validityDays');
	});
	profile = setValidityDays(profile, validity) as Profile;

	// What the checks screen offers: each check's port (where its type has one) and its timeout,
	// through the same edit and the same rules as the screen, so the errors read the same.
	const {value: editChecks} = profile.checks.length === 0 ? {value: 'false'} : await prompt({type: 'confirm', name: 'value', message: `Edit the ports and timeouts of the ${profile.checks.length} checks?`, initial: false});
	if (yes(editChecks)) {
		for (let index = 0; index < profile.checks.length; index++) {
			const check = profile.checks[index]!;
			const cells: Array<[CheckCell, string, string]> = [
				...(checkPort(check) === undefined ? [] : [['port', 'port', String(checkPort(check))] as [CheckCell, string, string]]),
				['timeoutSec', 'timeout (seconds)', String(check.timeoutSec)],
			];
			for (const [cell, label, current] of cells) {
				const value = await textAsk(`${printable(checkName(check))}: ${label}`, current, text => {
					const next = setCheckCell(profile, index, cell, text);
					return 'message' in next ? formatProblem(next) : problemFor(next, `checks[${index}].${cell}`);
				});
				profile = setCheckCell(profile, index, cell, value) as Profile;
			}
		}
	}

	const problems: FieldError[] = [...validateProfile(profile), ...(await hostChecks(profile))];
	if (problems.length > 0) {
		console.log(`The profile still has problems (saved anyway; fix them with the wizard or by editing it):\n${formatProblems(problems)}`);
	}
	store.save(profile);
	console.log(`Saved profile "${profile.name}". Next: plasma-tui plan --profile ${profile.name}, then plasma-tui up --profile ${profile.name} --yes`);
	return problems.length > 0 ? EXIT.badInput : EXIT.ok;
}
