import {useState} from 'react';
import type {Profile} from '../model/profile-schema.js';
import {formatProblem, problemOf} from '../model/field-error.js';
import {validateProfile} from '../model/profile-rules.js';
import {freeProfileName} from '../model/profile-name.js';
import type {WizardServices} from './wizard-services.js';

export type WizardStart = {
	draft?: {profile: Profile; screen: string; savedAt: string};
	saved: string[];
	templates: string[];
	// The demo template a new profile starts from; undefined when it does not parse.
	demo?: Profile;
	error?: string;
	// The problem with a new profile's name, if any; reads no file.
	checkName: (name: string) => string | undefined;
	// The name a profile started from a template gets: NAME-2, or the first free one among saved profiles and templates.
	proposeName: (template: string) => string;
};

// What the profile screen offers, read once when the wizard opens, not on every render or keystroke.
export function useWizardStart(services: WizardServices): WizardStart {
	const [start] = useState((): WizardStart => {
		const templates = services.listTemplates();
		const base = services.loadTemplate('demo');
		const demo = base.ok ? base.profile : undefined;
		const checkName = (name: string) => (demo ? validateProfile({...demo, name}).find(e => e.field === 'name')?.message : undefined);
		// Read apart: a draft that cannot be resumed must not hide the saved profiles, nor the reverse.
		const errors: string[] = [];
		const attempt = <T,>(read: () => T, fallback: T): T => {
			try {
				return read();
			} catch (error) {
				errors.push(formatProblem(problemOf(error)));
				return fallback;
			}
		};
		const draft = attempt(() => services.store.loadDraft(), undefined);
		const saved = attempt(() => services.store.list(), [] as string[]);
		const proposeName = (template: string) => freeProfileName(template, [...saved, ...templates]);
		return {draft, saved, templates, demo, checkName, proposeName, error: errors.length > 0 ? errors.join('; ') : undefined};
	});
	return start;
}
