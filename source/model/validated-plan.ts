import type {Profile} from './profile-schema.js';
import type {FieldError} from './field-error.js';
import {parseProfile} from './parse-profile.js';
import {buildPlan, type Plan, type PlanContext} from './plan.js';

// What every entry point checks before it writes anything (certificates,
// keys, node files, a saved profile): the full profile rules, not only its
// shape (a resumed draft is only shape-checked), then the plan's own problems.
export type ValidatedPlan = {ok: true; profile: Profile; plan: Plan} | {ok: false; errors: FieldError[]};

export function validatedPlan(input: unknown, context: PlanContext): ValidatedPlan {
	const parsed = parseProfile(input);
	if (!parsed.ok) return parsed;
	const plan = buildPlan(parsed.profile, context);
	return plan.problems.length > 0 ? {ok: false, errors: plan.problems} : {ok: true, profile: parsed.profile, plan};
}
