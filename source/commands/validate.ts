import {plainEventPrinter} from '../model/events.js';
import {validateRunning} from '../engine/validate-running.js';
import {formatReport} from '../engine/validation.js';
import {checkName} from '../services/checks/registry.js';
import {EXIT, planFor, profileFromOptions, underWorkLock} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'validate');
	if (!profile) return EXIT.badInput;
	const capSec = values['timeout'] === undefined ? undefined : Number(values['timeout']);
	if (capSec !== undefined && !(Number.isFinite(capSec) && capSec > 0)) {
		console.error(`plasma-tui validate: --timeout must be a positive number of seconds, got "${String(values['timeout'])}"`);
		return EXIT.badInput;
	}
	let checks = profile.checks;
	if (typeof values['only'] === 'string') {
		const wanted = values['only'].split(',').map(item => item.trim()).filter(Boolean);
		const known = new Set(profile.checks.flatMap(spec => [spec.type, checkName(spec)]));
		const unknown = wanted.filter(item => !known.has(item));
		if (unknown.length > 0) {
			console.error(`plasma-tui validate: --only: no check ${unknown.map(u => `"${u}"`).join(', ')} in "${profile.name}"; its checks: ${[...new Set(profile.checks.map(checkName))].join(', ')}`);
			return EXIT.badInput;
		}
		checks = profile.checks.filter(spec => wanted.includes(spec.type) || wanted.includes(checkName(spec)));
	}
	const plan = planFor(profile);
	return underWorkLock(plan, 'validate', async () => {
		const {report} = await validateRunning(profile, plan, {
			checks,
			timeoutCapMs: capSec === undefined ? undefined : capSec * 1000,
			onEvent: plainEventPrinter(line => console.log(line), {skip: event => event.type === 'check' && event.status === 'waiting'}),
		});
		if (!report) {
			console.error(`plasma-tui validate: no node of "${profile.name}" answers on SSH; is it up? (plasma-tui status --profile ${profile.name})`);
			return EXIT.notReady;
		}
		console.log(`\n${formatReport(report)}report: ${plan.report.json}, ${plan.report.text}`);
		return report.ok ? EXIT.ok : EXIT.failed;
	});
};
