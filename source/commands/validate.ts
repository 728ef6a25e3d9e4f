import {plainEventPrinter} from '../model/events.js';
import {validateRunning} from '../engine/validate-running.js';
import {formatReport} from '../engine/validation.js';
import {TimelineRecorder} from '../engine/timeline-recorder.js';
import {planDigest} from '../model/rerun.js';
import {checksFromOnly, EXIT, planFor, profileFromOptions, underWorkLock} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'validate');
	if (!profile) return EXIT.badInput;
	const capSec = values['timeout'] === undefined ? undefined : Number(values['timeout']);
	if (capSec !== undefined && !(Number.isFinite(capSec) && capSec > 0)) {
		console.error(`plasma-tui validate: --timeout must be a positive number of seconds, got "${String(values['timeout'])}"`);
		return EXIT.badInput;
	}
	const checks = checksFromOnly(profile, values['only'], 'validate');
	if (!checks) return EXIT.badInput;
	const plan = planFor(profile);
	return underWorkLock(plan, 'validate', async () => {
		const timeline = new TimelineRecorder(plan, 'validate', profile.name, message => console.error(`plasma-tui validate: ${message}`));
		const {report} = await validateRunning(profile, plan, {
			checks,
			// A green validation of this plan lets the next `up` skip to validation.
			planDigest: planDigest(plan),
			timeoutCapMs: capSec === undefined ? undefined : capSec * 1000,
			onEvent: timeline.listener(plainEventPrinter(line => console.log(line), {skip: event => event.type === 'check' && event.status === 'waiting'})),
		}).finally(() => timeline.flush());
		if (!report) {
			console.error(`plasma-tui validate: no node of "${profile.name}" answers on SSH; is it up? (plasma-tui status --profile ${profile.name})`);
			return EXIT.notReady;
		}
		console.log(`\n${formatReport(report)}report: ${plan.report.json}, ${plan.report.text}`);
		return report.ok ? EXIT.ok : EXIT.failed;
	});
};
