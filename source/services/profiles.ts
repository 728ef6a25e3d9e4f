import fs from 'node:fs/promises';
import {readFileSync, readdirSync} from 'node:fs';
import path from 'node:path';
import Conf from 'conf';
import type {Profile, ProfileInput} from '../model/profile-schema.js';
import {parseDraft, parseProfile, type ParseResult} from '../model/parse-profile.js';
import {type FieldError, fieldError} from '../model/field-error.js';
import {templatesDir} from './paths.js';

// Saved profiles and the wizard draft live in two conf files under the
// config directory. conf writes atomically; a file it cannot parse is
// reported with its path and left alone (clearInvalidConfig: false).

export class ProfileStoreError extends Error {
	constructor(
		message: string,
		readonly filePath: string,
		readonly fix: string,
	) {
		super(message);
	}
}

type StoreShape = {profiles: Record<string, ProfileInput>};
type DraftShape = {draft?: {profile: ProfileInput; screen: string; savedAt: string}};

function openConf<T extends Record<string, unknown>>(configDir: string, configName: string, defaults: T): Conf<T> {
	try {
		return new Conf<T>({cwd: configDir, configName, projectName: 'plasma-tui', projectSuffix: '', clearInvalidConfig: false, defaults, configFileMode: 0o600});
	} catch (error) {
		const file = path.join(configDir, `${configName}.json`);
		throw new ProfileStoreError(`${file} is not valid JSON (${(error as Error).message.split('\n')[0]})`, file, `fix or move the file away; it was not changed`);
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
		this.#profiles ??= openConf<StoreShape>(this.configDir, 'profiles', {profiles: {}});
		return this.#profiles;
	}

	#drafts(): Conf<DraftShape> {
		this.#draft ??= openConf<DraftShape>(this.configDir, 'draft', {});
		return this.#draft;
	}

	list(): string[] {
		return Object.keys(this.#store().get('profiles')).sort();
	}

	has(name: string): boolean {
		return name in this.#store().get('profiles');
	}

	load(name: string): ParseResult {
		const raw = this.#store().get('profiles')[name];
		if (raw === undefined) {
			return {ok: false, errors: [fieldError('profile', `no saved profile named "${name}"`, `run "plasma-tui profiles" to list them, or use --profile-file PATH`)]};
		}
		return parseProfile(raw);
	}

	save(profile: Profile): void {
		const profiles = {...this.#store().get('profiles'), [profile.name]: profile};
		this.#store().set('profiles', profiles);
	}

	rename(from: string, to: string): FieldError[] {
		const profiles = {...this.#store().get('profiles')};
		const raw = profiles[from];
		if (!raw) return [fieldError('profile', `no saved profile named "${from}"`, 'check the name with "plasma-tui profiles"')];
		if (profiles[to]) return [fieldError('name', `a profile named "${to}" exists already`, 'choose another name or delete that one first')];
		const parsed = parseProfile({...raw, name: to});
		if (!parsed.ok) return parsed.errors;
		delete profiles[from];
		profiles[to] = parsed.profile;
		this.#store().set('profiles', profiles);
		return [];
	}

	delete(name: string): boolean {
		const profiles = {...this.#store().get('profiles')};
		if (!(name in profiles)) return false;
		delete profiles[name];
		this.#store().set('profiles', profiles);
		return true;
	}

	saveDraft(profile: ProfileInput, screen: string): void {
		this.#drafts().set('draft', {profile, screen, savedAt: new Date().toISOString()});
	}

	loadDraft(): {profile: Profile; screen: string; savedAt: string} | undefined {
		const draft = this.#drafts().get('draft');
		if (!draft) return undefined;
		const profile = parseDraft(draft.profile);
		return profile ? {profile, screen: draft.screen, savedAt: draft.savedAt} : undefined;
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
	return parseProfile(JSON.parse(text));
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
		return {ok: false, errors: [fieldError('--profile-file', `${file} is not valid JSON: ${(error as Error).message}`, 'fix the file; it was not changed')]};
	}
	return parseProfile(json);
}

export async function writeProfileFile(file: string, profile: Profile): Promise<void> {
	const temp = `${file}.${process.pid}.tmp`;
	await fs.writeFile(temp, `${JSON.stringify(profile, null, 2)}\n`, {mode: 0o644});
	await fs.rename(temp, file);
}

// One lookup order for every command: --profile-file, then saved, then template.
export async function findProfile(options: {name?: string; file?: string; store: ProfileStore}): Promise<ParseResult> {
	if (options.file) return readProfileFile(options.file);
	const name = options.name ?? 'demo';
	if (options.store.has(name)) return options.store.load(name);
	if (listTemplates().includes(name)) return loadTemplate(name);
	return {ok: false, errors: [fieldError('--profile', `no saved profile or template named "${name}"`, `saved: ${options.store.list().join(', ') || 'none'}; templates: ${listTemplates().join(', ')}`)]};
}
