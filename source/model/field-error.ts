// An error a person can act on: which field (when one is to blame), what is
// wrong, what to do. Screens, commands and the engine print it the same way.
export type Problem = {
	field?: string;
	message: string;
	fix?: string;
};

// A problem the profile rules report: always names its field and a fix.
export type FieldError = Problem & {field: string; fix: string};

export function fieldError(field: string, message: string, fix: string): FieldError {
	return {field, message, fix};
}

// The one text of a problem: `field: message (fix: fix)`, field and fix left out when absent.
export function formatProblem(problem: Problem): string {
	return `${problem.field ? `${problem.field}: ` : ''}${problem.message}${problem.fix ? ` (fix: ${problem.fix})` : ''}`;
}

export function formatProblems(problems: readonly Problem[]): string {
	return problems.map(formatProblem).join('\n');
}

// A problem thrown: its message is the formatted text, so code that only
// prints `error.message` shows the field and the fix too.
export class ProblemError extends Error {
	constructor(
		readonly problem: Problem,
		options?: ErrorOptions,
	) {
		super(formatProblem(problem), options);
	}
}

// Whatever was caught, as a problem: a ProblemError keeps its field and fix.
export function problemOf(error: unknown): Problem {
	if (error instanceof ProblemError) return error.problem;
	if (error instanceof Error) return {message: error.message};
	return {message: String(error)};
}

// Characters that change how a terminal shows text rather than being text:
// C0 and C1 controls, DEL, bidirectional overrides and isolates (an RTL
// override would reorder the rest of an error line), line and paragraph separators.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

// Invisible characters made visible (\x1b, \u202e), nothing cut: for paths.
export function visible(text: string): string {
	return text.replace(INVISIBLE, c => {
		const code = c.charCodeAt(0);
		return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
	});
}

// Values shown back to the operator: invisible characters made visible, long ones cut.
export function printable(text: string): string {
	const shown = visible(text);
	if (shown.length <= 60) return shown;
	// Never cut an emoji (a surrogate pair) in half.
	const cut = /[\ud800-\udbff]/.test(shown[56]!) ? 56 : 57;
	return `${shown.slice(0, cut)}...`;
}

// A schema path as the operator writes it: nodes[0].ip, ssh.hostKeys.node01.
export function fieldPath(path: readonly PropertyKey[]): string {
	let text = '';
	for (const part of path) {
		if (typeof part === 'number') text += `[${part}]`;
		else text += text ? `.${printable(String(part))}` : printable(String(part));
	}
	return text || '(profile)';
}
