import {z} from 'zod';
import {fieldError, type FieldError} from './field-error.js';
import {parseFault} from './fault.js';

// A rehearsal scenario: a scripted sequence of faults, waits and
// expectations against a running cluster (`plasma-tui rehearse FILE`).
// Strict like the profile: an unknown key is an error with its path.
// Names in braces ({leader}, {follower}) are bound by a `find` step.

const seconds = z.number().positive().max(3600);
const name = z.string().min(1);

// Exactly one of these keys makes a step; `note` says why, for the report.
const findStep = z.strictObject({
	// Binds the current Raft leader and, optionally, one follower, by node name.
	find: z.strictObject({leader: name.optional(), follower: name.optional()}),
	note: z.string().optional(),
});
const faultStep = z.strictObject({
	// The words of `plasma-tui fault`, e.g. "kill {leader}", "partition {leader}|{follower}", "heal".
	fault: name,
	note: z.string().optional(),
});
const waitStep = z.strictObject({wait: seconds, note: z.string().optional()});
const expectStep = z.strictObject({
	expect: z.strictObject({
		// A check of the profile: its type (raft-quorum) or its name (etcd health).
		check: name,
		status: z.enum(['ok', 'failed']),
		within: seconds,
		// Only the results on this node (node checks), e.g. "{follower}".
		node: name.optional(),
		// A regular expression the check's detail must match (e.g. "3 of 3 answering").
		detail: z.string().optional(),
		// A leader must be agreed and must not be this node (e.g. "{leader}": a new one was elected).
		leaderNot: name.optional(),
	}),
	note: z.string().optional(),
});
const runStep = z.strictObject({
	// A shell command on a node over SSH, with the node's install variables ({ca}, {cert}, {key}, {ip}, ...).
	run: name,
	on: name,
	// What must come of it: exit 0 (ok, the default) or not (fails), and a regular expression its output matches;
	// tried again until it holds or `within` seconds pass (default: once).
	exit: z.enum(['ok', 'fails']).default('ok'),
	output: z.string().optional(),
	within: seconds.optional(),
	note: z.string().optional(),
});
const startStep = z.strictObject({
	// Boots a killed or powered-down node again and installs it (push); `rejoin` replaces the
	// install's commands (e.g. etcd with --initial-cluster-state existing: the demo keeps its data in RAM).
	start: name,
	rejoin: z.array(z.string()).optional(),
	note: z.string().optional(),
});

export const scenarioStepSchema = z.union([findStep, faultStep, waitStep, expectStep, runStep, startStep]);

export const scenarioSchema = z.strictObject({
	version: z.literal(1),
	// Names the report files (<workDir>/rehearsals/<name>.json, .txt).
	name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
	description: z.string().optional(),
	// Heal and thaw whatever is still active when the scenario ends (also when it fails).
	cleanup: z.boolean().default(true),
	steps: z.array(scenarioStepSchema).min(1),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioStep = z.infer<typeof scenarioStepSchema>;

const STEP_KEYS = ['find', 'fault', 'wait', 'expect', 'run', 'start'] as const;
export type StepKind = (typeof STEP_KEYS)[number];

export function stepKind(step: ScenarioStep): StepKind {
	return STEP_KEYS.find(key => key in step)!;
}

// Parses a scenario file's JSON. A union's errors are hard to read, so each
// step is matched by its one key first and then checked against that shape.
export function parseScenario(value: unknown, nodes: readonly string[]): {ok: true; scenario: Scenario} | {ok: false; errors: FieldError[]} {
	const errors: FieldError[] = [];
	const steps = (value as {steps?: unknown} | null)?.steps;
	if (Array.isArray(steps)) {
		steps.forEach((step, index) => {
			const keys = step && typeof step === 'object' ? STEP_KEYS.filter(key => key in step) : [];
			if (keys.length !== 1) errors.push(fieldError(`steps[${index}]`, keys.length === 0 ? 'is not a step' : `has ${keys.join(' and ')}: one step does one thing`, `give it exactly one of ${STEP_KEYS.join(', ')}`));
		});
	}
	if (errors.length > 0) return {ok: false, errors};
	const parsed = scenarioSchema.safeParse(value);
	if (!parsed.success) {
		return {ok: false, errors: parsed.error.issues.map(issue => fieldError(issue.path.map(p => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(file)', issueMessage(issue), 'see scenarios/*.json for the step shapes')),};
	}
	const bound = new Set<string>(nodes);
	parsed.data.steps.forEach((step, index) => {
		const at = `steps[${index}]`;
		const unbound = (text: string, field: string) => {
			for (const match of text.matchAll(/\{([a-zA-Z][\w-]*)\}/g)) {
				if (!bound.has(match[1]!) && !INSTALL_VARIABLES.has(match[1]!)) errors.push(fieldError(`${at}.${field}`, `{${match[1]}} is not bound by an earlier find step`, 'add {"find": {"leader": "leader"}} before it, or use a node name'));
			}
		};
		if ('find' in step) {
			for (const value of Object.values(step.find)) if (value) bound.add(value);
		} else if ('fault' in step) {
			unbound(step.fault, 'fault');
			const words = step.fault.replaceAll(/\{[\w-]+\}/g, nodes[0] ?? 'node').split(/\s+/);
			const check = parseFault(words, nodes);
			if (!check.ok) errors.push(fieldError(`${at}.fault`, check.message.replace(/^fault /, ''), 'the words of `plasma-tui fault`, e.g. "kill {leader}" or "heal"'));
		} else if ('run' in step) {
			unbound(step.on, 'on');
			unbound(step.run, 'run');
			if (step.output !== undefined && !isRegex(step.output)) errors.push(fieldError(`${at}.output`, 'is not a regular expression', 'escape ( ) [ ] with a backslash'));
		} else if ('start' in step) {
			unbound(step.start, 'start');
		} else if ('expect' in step) {
			for (const field of ['node', 'leaderNot'] as const) if (step.expect[field]) unbound(step.expect[field]!, `expect.${field}`);
			if (step.expect.detail !== undefined && !isRegex(step.expect.detail)) errors.push(fieldError(`${at}.expect.detail`, 'is not a regular expression', 'escape ( ) [ ] with a backslash'));
		}
	});
	return errors.length > 0 ? {ok: false, errors} : {ok: true, scenario: parsed.data};
}

// What a run command or a rejoin command may use besides bound names (services fill them per node).
const INSTALL_VARIABLES = new Set(['name', 'node', 'hostname', 'fqdn', 'ip', 'prefix', 'mac', 'sshPort', 'domain', 'cluster', 'secretsDir', 'ca', 'cert', 'key', 'etcdInitialCluster', 'etcdEndpoints']);

function isRegex(text: string): boolean {
	try {
		new RegExp(text);
		return true;
	} catch {
		return false;
	}
}

function issueMessage(issue: z.core.$ZodIssue): string {
	if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(k => `"${k}"`).join(', ')}`;
	return issue.message;
}

// {leader} -> node02 in a step's text.
export function bindNames(text: string, bindings: Readonly<Record<string, string>>): string {
	return text.replaceAll(/\{([a-zA-Z][\w-]*)\}/g, (whole, key: string) => bindings[key] ?? whole);
}
