import os from 'node:os';
import type {CheckSpec, Profile} from '../model/profile-schema.js';
import {formatProblem, formatProblems, ProblemError} from '../model/field-error.js';
import {buildPlan, type Plan, type PlanContext} from '../model/plan.js';
import {checkName} from '../model/check-name.js';
import {assertVmTarget} from '../model/ssh-hosts-rules.js';
import {packageRoot, toolPaths} from '../services/paths.js';
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

// For what works through QEMU and the switch only (stop, start, node, fault, rehearse, snapshot):
// a profile of existing machines (target ssh-hosts) is refused by name, not half-run.
export async function vmProfileFromOptions(values: CommandOptions, command: string): Promise<Profile | undefined> {
	const profile = await profileFromOptions(values, command);
	if (!profile) return undefined;
	try {
		assertVmTarget(profile.target, profile.name, command);
		return profile;
	} catch (error) {
		if (!(error instanceof ProblemError)) throw error;
		console.error(`plasma-tui ${command}: ${formatProblem(error.problem)}`);
		return undefined;
	}
}

export function planContext(accel?: PlanContext['accel']): PlanContext {
	const paths = toolPaths();
	return {clustersDir: paths.clustersDir, imageDir: paths.imageDir, home: paths.home, accel, userHome: os.homedir(), configDir: paths.configDir, packageRoot: packageRoot()};
}

export function planFor(profile: Profile, accel?: PlanContext['accel']): Plan {
	return buildPlan(profile, planContext(accel));
}

// A command's work under its work directory's lock: a second up, down, certs or
// validate of the same profile is told who holds it and exits 1, touching nothing;
// so is a work directory the tool may not use (another owner's, a symlink).
export async function underWorkLock(plan: Plan, command: string, work: () => Promise<number>): Promise<number> {
	const {lockWorkDir} = await import('../services/work-lock.js');
	let lock: Awaited<ReturnType<typeof lockWorkDir>>;
	try {
		lock = await lockWorkDir(plan, command);
	} catch (error) {
		if (!(error instanceof ProblemError)) throw error;
		console.error(`plasma-tui ${command}: ${formatProblem(error.problem)}`);
		return EXIT.failed;
	}
	try {
		return await work();
	} finally {
		await lock.release();
	}
}

// The checks --only picks (types or names, comma-separated), all without it; undefined (said why) when one is unknown.
export function checksFromOnly(profile: Profile, only: CommandOptions[string], command: string): CheckSpec[] | undefined {
	if (typeof only !== 'string') return profile.checks;
	const name = checkName;
	const wanted = only.split(',').map(item => item.trim()).filter(Boolean);
	const known = new Set(profile.checks.flatMap(spec => [spec.type, name(spec)]));
	const unknown = wanted.filter(item => !known.has(item));
	if (unknown.length > 0) {
		console.error(`plasma-tui ${command}: --only: no check ${unknown.map(u => `"${u}"`).join(', ')} in "${profile.name}"; its checks: ${[...new Set(profile.checks.map(name))].join(', ')}`);
		return undefined;
	}
	return profile.checks.filter(spec => wanted.includes(spec.type) || wanted.includes(name(spec)));
}
