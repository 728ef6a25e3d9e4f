import type {Profile} from '../model/profile-schema.js';
import {plainEventPrinter} from '../model/events.js';
import {runUp} from '../engine/up.js';
import {EXIT, planFor, profileFromOptions, underWorkLock} from './common.js';
import {abortOnSignals} from './interrupt.js';
import type {CommandOptions, CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'up');
	if (!profile) return EXIT.badInput;
	if (!values['yes']) {
		const what = profile.target.kind === 'ssh-hosts' ? `installs onto ${profile.nodes.length} existing machines` : `boots ${profile.nodes.length} VMs`;
		console.error(`plasma-tui up: this ${what} for "${profile.name}"; review "plasma-tui plan --profile ${profile.name}" and pass --yes to start.`);
		return EXIT.badInput;
	}
	return bringUp(profile, values, 'up');
};

// up and start: the same run (a stopped cluster's installed nodes boot from their disks, installs are skipped).
export async function bringUp(profile: Profile, values: CommandOptions, verb: 'up' | 'start'): Promise<number> {
	const controller = new AbortController();
	const releaseSignals = abortOnSignals(controller);
	const started = Date.now();
	const plan = planFor(profile);
	try {
		return await underWorkLock(plan, verb, async () => {
			const result = await runUp(profile, {
				plan,
				signal: controller.signal,
				forceInstall: values['force-install'] === true,
				bootOnly: values['boot-only'] === true,
				fromSnapshot: typeof values['from-snapshot'] === 'string' ? values['from-snapshot'] : undefined,
				acceptNewHostKeys: values['accept-new-host-keys'] === true,
				full: values['full'] === true,
				// Waits print when they change and then every 10 s per node, not on every retry.
				onEvent: plainEventPrinter(line => console.log(line)),
			});
			const summary = Object.entries(result.phases).map(([node, phase]) => `${node} ${phase}`).join(', ');
			const outcome = result.exitCode === 0 ? verb : result.interrupted ? `${verb} interrupted` : `${verb} failed${result.failedStage ? ` at ${result.failedStage}` : ''}`;
			console.log(`${outcome} after ${Math.round((Date.now() - started) / 1000)} s: ${summary}`);
			if (result.exitCode === 0) console.log(`next: plasma-tui status --profile ${profile.name}; plasma-tui console NODE; plasma-tui stop --profile ${profile.name}; plasma-tui down --profile ${profile.name}`);
			return result.exitCode;
		});
	} finally {
		releaseSignals();
	}
}
