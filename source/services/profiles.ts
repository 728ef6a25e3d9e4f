import fs from 'node:fs/promises';
import {readFileSync, readdirSync} from 'node:fs';
import path from 'node:path';
import Conf from 'conf';
import type {Profile, ProfileInput} from '../model/profile-schema.js';
import {parseDraft, parseProfile, type ParseResult} from '../model/parse-profile.js';
import {type FieldError, fieldError, formatProblem, printable, ProblemError} from '../model/field-error.js';
import {templatesDir} from './paths.js';
import {writeFileAtomic} from './atomic-file.js';

// Saved profiles and the wizard draft live in two conf files under the
// config directory. conf writes atomically; a file it cannot parse is
// reported with its path and left alone (clearInvalidConfig: false).

// Names the file it is about (tests and callers compare it).
export class ProfileStoreError extends ProblemError {
	constructor(
		message: string,
		readonly filePath: string,
		fix: string,
	) {
		super({message, fix});
	}
}

type StoreShape = {profiles: Record<string, ProfileInput>};
type DraftShape = {draft?: {profile: ProfileInput; screen: string; savedAt: string}};

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidJson(file: string, error: unknown): ProfileStoreError {
	return new ProfileStoreError(`${file} is not valid JSON (${printable((error as Error).message.split('\n')[0] ?? '')})`, file, 'fix or move the file away; it was not changed');
}

// conf merges its defaults into whatever the file holds and writes the result
// back, so a file of the wrong shape ([] or "text" or {"profiles": 5}) would
// be replaced. It is checked first, and reported with its path instead.
function checkShape(file: string, key: string): void {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
		throw new ProfileStoreError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, file, 'check its permissions; it was not changed');
	}
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (error) {
		throw invalidJson(file, error);
	}
	if (!isPlainObject(data)) throw new ProfileStoreError(`${file} does not hold a JSON object`, file, 'fix or move the file away; it was not changed');
	if (key in data && !isPlainObject(data[key])) throw new ProfileStoreError(`${file}: "${key}" is not a JSON object`, file, 'fix or move the file away; it was not changed');
}

function openConf<T extends Record<string, unknown>>(configDir: string, configName: string, defaults: T, key: string): Conf<T> {
	const file = path.join(configDir, `${configName}.json`);
	checkShape(file, key);
	try {
		return new Conf<T>({cwd: configDir, configName, projectName: 'plasma-tui', projectSuffix: '', clearInvalidConfig: false, defaults, configFileMode: 0o600});
	} catch (error) {
		throw invalidJson(file, error);
	}
}

export class ProfileStore {
	readonly configDir: string;
	#profiles?: Conf<StoreShape>;
	#draft?: Conf<DraftShape>;

	constructor(configDir: string) {
		this.configDir = configDir;
	}

	get file(): string {
		return path.join(this.configDir, 'profiles.json');
	}

	get draftFile(): string {
		return path.join(this.configDir, 'draft.json');
	}

	#store(): Conf<StoreShape> {
		this.#profiles ??= openConf<StoreShape>(this.configDir, 'profiles', {} as StoreShape, 'profiles');
		return this.#profiles;
	}

	// conf reads the file again on every get: it may have been broken since it was opened.
	#saved(): Record<string, ProfileInput> {
		let profiles: unknown;
		try {
			// Absent in a new or empty file; no default, so conf never rewrites a file just to add one.
			profiles = this.#store().get('profiles') ?? {};
		} catch (error) {
			if (error instanceof ProfileStoreError) throw error;
			throw invalidJson(this.file, error);
		}
		if (!isPlainObject(profiles)) throw new ProfileStoreError(`${this.file}: "profiles" is not a JSON object`, this.file, 'fix or move the file away; it was not changed');
		return profiles as Record<string, ProfileInput>;
	}

	// The file may have been broken by hand since it was read: never write over that.
	#write(profiles: Record<string, ProfileInput>): void {
		checkShape(this.file, 'profiles');
		this.#store().set('profiles', profiles);
	}

	#drafts(): Conf<DraftShape> {
		this.#draft ??= openConf<DraftShape>(this.configDir, 'draft', {}, 'draft');
		return this.#draft;
	}

	list(): string[] {
		return Object.keys(this.#saved()).sort();
	}

	has(name: string): boolean {
		return Object.hasOwn(this.#saved(), name);
	}

	load(name: string): ParseResult {
		const saved = this.#saved();
		if (!Object.hasOwn(saved, name)) {
			return {ok: false, errors: [fieldError('profile', `no saved profile named "${printable(name)}"`, `run "plasma-tui profiles" to list them, or use --profile-file PATH`)]};
		}
		const parsed = parseProfile(saved[name]);
		if (parsed.ok) return parsed;
		return {ok: false, errors: [...parsed.errors, fieldError('profile', `saved profile "${printable(name)}" in ${this.file} has the problems above`, 'fix it in the wizard or in that file; it was not changed')]};
	}

	save(profile: Profile): void {
		const profiles = {...this.#saved(), [profile.name]: profile};
		this.#write(profiles);
	}

	rename(from: string, to: string): FieldError[] {
		const profiles = {...this.#saved()};
		if (!Object.hasOwn(profiles, from)) return [fieldError('profile', `no saved profile named "${printable(from)}"`, 'check the name with "plasma-tui profiles"')];
		if (Object.hasOwn(profiles, to)) return [fieldError('name', `a profile named "${printable(to)}" exists already`, 'choose another name or delete that one first')];
		const raw: unknown = profiles[from];
		const parsed = parseProfile(isPlainObject(raw) ? {...raw, name: to} : raw);
		if (!parsed.ok) return parsed.errors;
		delete profiles[from];
		profiles[to] = parsed.profile;
		this.#write(profiles);
		return [];
	}

	delete(name: string): boolean {
		const profiles = {...this.#saved()};
		if (!Object.hasOwn(profiles, name)) return false;
		delete profiles[name];
		this.#write(profiles);
		return true;
	}

	saveDraft(profile: ProfileInput, screen: string): void {
		checkShape(this.draftFile, 'draft');
		this.#drafts().set('draft', {profile, screen, savedAt: new Date().toISOString()});
	}

	loadDraft(): {profile: Profile; screen: string; savedAt: string} | undefined {
		const draft = this.#drafts().get('draft');
		if (!isPlainObject(draft) || !isPlainObject(draft.profile)) return undefined;
		// Reported rather than dropped or stripped: the draft may hold an edit made by hand.
		const parsed = parseDraft(draft.profile);
		if (!parsed.ok) {
			const problems = parsed.errors.map(formatProblem).join('; ');
			throw new ProfileStoreError(`the draft in ${this.draftFile} cannot be resumed: ${problems}`, this.draftFile, 'fix or move the file away; the next draft the wizard saves replaces it');
		}
		return {profile: parsed.profile, screen: String(draft.screen), savedAt: String(draft.savedAt)};
	}

	clearDraft(): void {
		this.#drafts().delete('draft');
	}
}

export function listTemplates(dir = templatesDir()): string[] {
	return readdirSync(dir)
		.filter(f => f.endsWith('.json'))
		.map(f => f.slice(0, -'.json'.length))
		.sort();
}

export function loadTemplate(name: string, dir = templatesDir()): ParseResult {
	const file = path.join(dir, `${name}.json`);
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch {
		return {ok: false, errors: [fieldError('template', `no built-in template named "${name}"`, `choose one of: ${listTemplates(dir).join(', ')}`)]};
	}
	try {
		return parseProfile(JSON.parse(text));
	} catch (error) {
		return {ok: false, errors: [fieldError('template', `${file} is not valid JSON: ${printable((error as Error).message)}`, 'reinstall plasma-tui')]};
	}
}

export async function readProfileFile(file: string): Promise<ParseResult> {
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch (error) {
		return {ok: false, errors: [fieldError('--profile-file', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'check the path')]};
	}
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (error) {
		return {ok: false, errors: [fieldError('--profile-file', `${file} is not valid JSON: ${printable((error as Error).message)}`, 'fix the file; it was not changed')]};
	}
	return parseProfile(json);
}

// A fresh temp name opened O_EXCL next to the file, then renamed over it:
// never written through a symlink someone placed at a predictable name.
export async function writeProfileFile(file: string, profile: Profile): Promise<void> {
	await writeFileAtomic(file, `${JSON.stringify(profile, null, 2)}\n`, 0o644);
}

// Saved profiles that have a template's name: `--profile NAME` finds the saved one first.
export function shadowedTemplates(saved: string[], templates = listTemplates()): Set<string> {
	return new Set(saved.filter(name => templates.includes(name)));
}

// What `--profile NAME` means when a saved profile and a template share the name; one line for stderr.
export function shadowNote(name: string, asked = `--profile ${name}`): string {
	const shown = printable(name);
	return `${printable(asked)} is the saved profile ${shown}, not the template ${shown} (it shadows the template; "plasma-tui profiles rename ${shown} NEW" makes the template reachable again)`;
}

// A profile found by name, and a note when the name was ambiguous (a saved profile shadowing a template).
export type FoundProfile = ParseResult & {note?: string};

// One lookup order for every command: --profile-file, then saved, then template.
export async function findProfile(options: {name?: string; file?: string; store: ProfileStore}): Promise<FoundProfile> {
	if (options.file) return readProfileFile(options.file);
	const name = options.name ?? 'demo';
	if (options.store.has(name)) {
		const found = options.store.load(name);
		return listTemplates().includes(name) ? {...found, note: shadowNote(name)} : found;
	}
	if (listTemplates().includes(name)) return loadTemplate(name);
	return {ok: false, errors: [fieldError('--profile', `no saved profile or template named "${printable(name)}"`, `saved: ${options.store.list().join(', ') || 'none'}; templates: ${listTemplates().join(', ')}`)]};
}

// Where a profile came from, for the commands that change it (`node add`, `node remove`): a
// saved profile is saved again, a --profile-file rewritten atomically, a built-in template never changed.
export type ProfileSource = {kind: 'file'; file: string} | {kind: 'saved'; name: string; store: ProfileStore} | {kind: 'template'; name: string};

// The same lookup order as findProfile.
export function profileSourceOf(options: {name?: string; file?: string; store: ProfileStore}): ProfileSource {
	if (options.file) return {kind: 'file', file: options.file};
	const name = options.name ?? 'demo';
	return options.store.has(name) ? {kind: 'saved', name, store: options.store} : {kind: 'template', name};
}

// Checked before a change starts: a template cannot take it.
export function assertWritable(source: ProfileSource, change: string): void {
	if (source.kind !== 'template') return;
	const shown = printable(source.name);
	throw new ProblemError({
		field: '--profile',
		message: `"${shown}" is a built-in template: ${change} would have to change it, and templates are never changed`,
		fix: `save it under a name first (plasma-tui init --template ${shown}, or write it to a file and use --profile-file), bring that one up, and change it`,
	});
}

export async function writeProfileBack(source: ProfileSource, profile: Profile): Promise<string> {
	assertWritable(source, 'this');
	if (source.kind === 'file') {
		await writeProfileFile(source.file, profile);
		return source.file;
	}
	if (source.kind === 'saved') {
		source.store.save(profile);
		return `${source.store.file} (profile "${printable(source.name)}")`;
	}
	return '';
}
