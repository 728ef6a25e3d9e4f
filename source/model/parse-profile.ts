import type {z} from 'zod';
import {type Profile, profileSchema, PROFILE_VERSION} from './profile-schema.js';
import {type FieldError, fieldError, fieldPath} from './field-error.js';
import {validateProfile} from './profile-rules.js';
import {unknownKeyErrors} from './unknown-keys.js';


export type ParseResult = {ok: true; profile: Profile} | {ok: false; errors: FieldError[]};


function issueToErrors(issue: z.core.$ZodIssue, input: unknown): FieldError[] {
	if (issue.code === 'unrecognized_keys') return unknownKeyErrors(profileSchema, input, issue);
	return [issueToError(issue)];
}

function issueToError(issue: z.core.$ZodIssue): FieldError {
	const field = fieldPath(issue.path);
	switch (issue.code) {
		case 'invalid_type':
			return fieldError(field, `expected ${issue.expected}`, `set ${field} to a ${issue.expected} value`);
		case 'invalid_value':
			return fieldError(field, `must be one of ${issue.values.map(v => JSON.stringify(v)).join(', ')}`, `choose one of those values for ${field}`);
		case 'invalid_union':
			return fieldError(field, 'does not match any known form', `check ${field} against the README's profile reference`);
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
	const shape = parseDraft(input);
	if (!shape.ok) return shape;
	const errors = validateProfile(shape.profile);
	return errors.length > 0 ? {ok: false, errors} : shape;
}

// For drafts: shape-checked (unknown keys too) but not semantically validated, so a half-typed profile loads.
export function parseDraft(input: unknown): ParseResult {
	const result = profileSchema.safeParse(input);
	return result.success ? {ok: true, profile: result.data} : {ok: false, errors: result.error.issues.flatMap(issue => issueToErrors(issue, input))};
}
