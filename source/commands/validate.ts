import {formatEventLine} from '../model/events.js';
import {sshTargetFor} from '../engine/up.js';
import {formatReport, validateCluster} from '../engine/validation.js';
import {checkName} from '../services/checks.js';
import {NodeSsh, waitForSsh} from '../services/ssh.js';
import {EXIT, planFor, profileFromOptions} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'validate');
	if (!profile) return EXIT.badInput;
	const capSec = values['timeout'] === undefined ? undefined : Number(values['timeout']);
	if (capSec !== undefined && !(Number.isFinite(capSec) && capSec > 0)) {
		console.error(`plasma-tui validate: --timeout must be a positive number of seconds, got "${String(values['timeout'])}"`);
		return EXIT.badInput;
	}
	if (typeof values['only'] === 'string') {
		const wanted = values['only'].split(',').map(item => item.trim()).filter(Boolean);
		const known = new Set(profile.checks.flatMap(spec => [spec.type, checkName(spec)]));
		const unknown = wanted.filter(item => !known.has(item));
		if (unknown.length > 0) {
			console.error(`plasma-tui validate: --only: no check ${unknown.map(u => `"${u}"`).join(', ')} in "${profile.name}"; its checks: ${[...new Set(profile.checks.map(checkName))].join(', ')}`);
			return EXIT.badInput;
		}
		profile.checks = profile.checks.filter(spec => wanted.includes(spec.type) || wanted.includes(checkName(spec)));
	}
	const plan = planFor(profile);
	const connections = new Map<string, NodeSsh>();
	await Promise.all(
		plan.nodes.map(async node => {
			try {
				connections.set(node.name, await waitForSsh(sshTargetFor(plan, node), {timeoutMs: 15_000}));
			} catch (error) {
				console.log(`${node.name}: unreachable: ${(error as Error).message}`);
			}
		}),
	);
	if (connections.size === 0) {
		console.error(`plasma-tui validate: no node of "${profile.name}" answers on SSH; is it up? (plasma-tui status --profile ${profile.name})`);
		return EXIT.notReady;
	}
	try {
		const report = await validateCluster(profile, plan, {
			connections,
			timeoutCapMs: capSec === undefined ? undefined : capSec * 1000,
			onEvent: event => {
				if (event.type === 'check' && event.status === 'waiting') return;
				const line = formatEventLine(event);
				if (line) console.log(line);
			},
		});
		console.log(`\n${formatReport(report)}report: ${plan.report.json}, ${plan.report.text}`);
		return report.ok ? EXIT.ok : EXIT.failed;
	} finally {
		for (const connection of connections.values()) connection.close();
	}
};
