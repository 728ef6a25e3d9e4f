import {useCallback, useEffect, useRef, useState} from 'react';
import type {Profile} from '../model/profile-schema.js';
import {saveConflict, type SaveConflict} from '../model/profile-name.js';
import type {WizardServices} from './wizard-services.js';

const DRAFT_DELAY_MS = 250;

// The profile being edited. Every change is written to the draft file shortly
// after it is made, so a crash or a kill loses at most a quarter second.
// `initial` (a profile given on the command line) starts the draft as it is: nothing unsaved yet.
// `savedAs` is the saved profile the draft is (loaded from, or last saved as): saving under
// that name replaces nothing unexpected; saving under another saved or template name asks first.
export function useProfileDraft(store: WizardServices['store'], screen: string, initial?: Profile, initialSavedAs?: string) {
	const [profile, setProfileState] = useState<Profile | undefined>(initial);
	const [unsaved, setUnsaved] = useState(false);
	const [savedAs, setSavedAs] = useState<string | undefined>(initialSavedAs);
	const savedAsRef = useRef(initialSavedAs);
	const [error, setError] = useState<string | undefined>();
	const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
	const latest = useRef<{profile?: Profile; screen: string}>({profile: initial, screen});
	latest.current.screen = screen;

	const flush = useCallback(() => {
		if (pending.current) clearTimeout(pending.current);
		pending.current = undefined;
		const current = latest.current.profile;
		if (!current) return;
		try {
			store.saveDraft(current, latest.current.screen);
		} catch (caught) {
			setError(`draft not saved: ${(caught as Error).message}`);
		}
	}, [store]);

	// `from` starts another profile (a template, a saved one, a new name, a resumed draft).
	const setProfile = useCallback(
		(next: Profile, options: {fresh?: boolean; from?: {savedAs?: string}} = {}) => {
			latest.current.profile = next;
			setProfileState(next);
			if (options.from) {
				savedAsRef.current = options.from.savedAs;
				setSavedAs(options.from.savedAs);
			}
			if (options.fresh) return;
			setUnsaved(true);
			if (pending.current) clearTimeout(pending.current);
			pending.current = setTimeout(flush, DRAFT_DELAY_MS);
		},
		[flush],
	);

	const save = useCallback(() => {
		const current = latest.current.profile;
		if (!current) return false;
		try {
			store.save(current);
			if (pending.current) clearTimeout(pending.current);
			pending.current = undefined;
			store.clearDraft();
			setUnsaved(false);
			savedAsRef.current = current.name;
			setSavedAs(current.name);
			return true;
		} catch (caught) {
			setError(`profile not saved: ${(caught as Error).message}`);
			return false;
		}
	}, [store]);

	// What a save now would replace or hide, read from the store as it is now.
	// A store that cannot be read is reported by the save itself.
	const conflict = useCallback(
		(templates: string[]): SaveConflict | undefined => {
			const current = latest.current.profile;
			if (!current) return undefined;
			let saved: string[];
			try {
				saved = store.list();
			} catch {
				return undefined;
			}
			return saveConflict(current.name, savedAsRef.current, saved, templates);
		},
		[store],
	);

	useEffect(() => () => flush(), [flush]);
	// Screen changes are worth recording too: resume returns to the same screen.
	useEffect(() => {
		if (unsaved) flush();
	}, [screen]);

	return {profile, setProfile, unsaved, save, flush, error, savedAs, conflict};
}
