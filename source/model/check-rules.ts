import type {Profile} from './profile-schema.js';
import type {FieldError} from './field-error.js';
import {CHECKS} from '../services/checks/registry.js';

// Check parameters go into HTTP request lines, systemctl arguments and regular
// expressions: each check type's rules find a bad one before the run, as a
// field error, instead of a check that fails (or throws) minutes into it.
export function validateChecks(profile: Profile): FieldError[] {
	return profile.checks.flatMap((check, index) => CHECKS.rules(check, `checks[${index}]`));
}
