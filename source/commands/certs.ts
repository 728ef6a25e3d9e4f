import {writeArtifacts} from '../services/artifacts.js';
import {formatProblem, formatProblems, ProblemError} from '../model/field-error.js';
import {EXIT, planFor, profileFromOptions, underWorkLock} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'certs');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	// Plan problems are the profile's to fix, as for `plan`: nothing is written.
	if (plan.problems.length > 0) {
		console.error(`plasma-tui certs: the plan has problems, nothing was written:\n${formatProblems(plan.problems)}`);
		return EXIT.badInput;
	}
	return underWorkLock(plan, 'certs', () => writeCerts(plan));
};

async function writeCerts(plan: ReturnType<typeof planFor>): Promise<number> {
	try {
		const report = await writeArtifacts(plan);
		for (const file of report.written) console.log(`written    ${file}`);
		for (const file of report.unchanged) console.log(`unchanged  ${file}`);
		for (const cert of [report.ca, ...report.certificates]) {
			const who = cert.node ?? 'CA';
			console.log(`${who.padEnd(8)} ${cert.keyType}  expires ${cert.notAfter}  ${cert.fingerprint256}${cert.reused ? '  (reused)' : ''}`);
		}
		return EXIT.ok;
	} catch (error) {
		if (!(error instanceof ProblemError)) throw error;
		console.error(`plasma-tui certs: ${formatProblem(error.problem)}`);
		return EXIT.failed;
	}
}
