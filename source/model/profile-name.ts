// Names for a profile started from a template. A saved profile with a
// template's name hides that template from `--profile NAME`, so a new
// profile gets a name of its own: NAME-2, or the first free one after it.

const MAX_NAME = 63;

export function freeProfileName(base: string, taken: Iterable<string>): string {
	const used = new Set(taken);
	for (let n = 2; ; n++) {
		const suffix = `-${n}`;
		const name = `${base.slice(0, MAX_NAME - suffix.length)}${suffix}`;
		if (!used.has(name)) return name;
	}
}

// What saving a profile under `name` would replace or hide, if anything.
// `savedAs` is the saved profile the draft came from (or was last saved as): saving it again replaces nothing new.
export type SaveConflict = {kind: 'replaces-saved' | 'shadows-template'; name: string};

export function saveConflict(name: string, savedAs: string | undefined, saved: string[], templates: string[]): SaveConflict | undefined {
	if (name === savedAs) return undefined;
	if (saved.includes(name)) return {kind: 'replaces-saved', name};
	if (templates.includes(name)) return {kind: 'shadows-template', name};
	return undefined;
}
