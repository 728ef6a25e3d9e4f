import {formatFinding, runPreflight} from '../services/preflight.js';
import {EXIT, planFor, profileFromOptions} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'doctor');
	if (!profile) return EXIT.badInput;
	const findings = await runPreflight(planFor(profile));
	for (const finding of findings) console.log(formatFinding(finding));
	return findings.some(f => f.status === 'fail') ? EXIT.failed : EXIT.ok;
};
