import type {Profile} from '../model/profile-schema.js';
import {formatProblem, formatProblems, ProblemError} from '../model/field-error.js';
import {buildPlan, type Plan, type PlanContext} from '../model/plan.js';
import {toolPaths} from '../services/paths.js';
import {findProfile, ProfileStore} from '../services/profiles.js';
import type {CommandOptions} from './registry.js';

// Exit codes shared by every headless command.
export const EXIT = {ok: 0, failed: 1, badInput: 2, notReady: 3} as const;

export function profileStore(): ProfileStore {
	return new ProfileStore(toolPaths().configDir);
}

// Loads the profile named by --profile / --profile-file; prints field errors
// (the same text the screens show) and returns undefined when it is unusable.
export async function profileFromOptions(values: CommandOptions, command: string): Promise<Profile | undefined> {
	try {
		const result = await findProfile({
			name: typeof values['profile'] === 'string' ? values['profile'] : undefined,
			file: typeof values['profile-file'] === 'string' ? values['profile-file'] : undefined,
			store: profileStore(),
		});
		if (result.note) console.error(`plasma-tui ${command}: ${result.note}`);
		if (result.ok) return result.profile;
		console.error(`plasma-tui ${command}: the profile has problems:\n${formatProblems(result.errors)}`);
	} catch (error) {
		if (!(error instanceof ProblemError)) throw error;
		console.error(`plasma-tui ${command}: ${formatProblem(error.problem)}`);
	}
	return undefined;
}

export function planContext(accel?: PlanContext['accel']): PlanContext {
	const paths = toolPaths();
	return {clustersDir: paths.clustersDir, imageDir: paths.imageDir, home: paths.home, accel};
}

export function planFor(profile: Profile, accel?: PlanContext['accel']): Plan {
	return buildPlan(profile, planContext(accel));
}
