import type {z} from 'zod';
import {type Profile, profileSchema, PROFILE_VERSION} from './profile-schema.js';
import {type FieldError, fieldError, fieldPath, printable} from './field-error.js';
import {validateProfile} from './profile-rules.js';


export type ParseResult = {ok: true; profile: Profile} | {ok: false; errors: FieldError[]};


function issueToError(issue: z.core.$ZodIssue): FieldError {
	const field = fieldPath(issue.path);
	switch (issue.code) {
		case 'invalid_type':
			return fieldError(field, `expected ${issue.expected}`, `set ${field} to a ${issue.expected} value`);
		case 'invalid_value':
			return fieldError(field, `must be one of ${issue.values.map(v => JSON.stringify(v)).join(', ')}`, `choose one of those values for ${field}`);
		case 'invalid_union':
			return fieldError(field, 'does not match any known form', `check ${field} against the README's profile reference`);
		case 'unrecognized_keys':
			return fieldError(field, `unknown key(s) ${issue.keys.map(printable).join(', ')}`, 'remove them or fix their spelling');
		default:
			return fieldError(field, issue.message, `fix ${field}`);
	}
}

// Schema shape first, then the semantic checks, so the operator sees one list.
export function parseProfile(input: unknown): ParseResult {
	if (typeof input === 'object' && input !== null && 'version' in input) {
		const version = (input as {version: unknown}).version;
		if (typeof version === 'number' && version > PROFILE_VERSION) {
			return {ok: false, errors: [fieldError('version', `profile version ${version} is newer than this tool understands (${PROFILE_VERSION})`, 'upgrade plasma-tui')]};
		}
	}
	const result = profileSchema.safeParse(input);
	if (!result.success) return {ok: false, errors: result.error.issues.map(issueToError)};
	const errors = validateProfile(result.data);
	return errors.length > 0 ? {ok: false, errors} : {ok: true, profile: result.data};
}

// For drafts: shape-checked but not semantically validated, so a half-typed profile loads.
export function parseDraft(input: unknown): Profile | undefined {
	const result = profileSchema.safeParse(input);
	return result.success ? result.data : undefined;
}
