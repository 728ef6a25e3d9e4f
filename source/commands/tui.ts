import {hostChecks} from '../services/host-checks.js';
import {listTemplates, loadTemplate} from '../services/profiles.js';
import {EXIT, planContext, profileFromOptions, profileStore} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	if (!process.stdin.isTTY || !process.stdout.isTTY || process.env['TERM'] === 'dumb') {
		console.error('plasma-tui: no interactive terminal here (TERM=dumb or not a TTY); asking line by line instead.');
		const {runPlainInit} = await import('../plain/init-plain.js');
		return runPlainInit({});
	}
	const initialProfile = values['profile'] || values['profile-file'] ? await profileFromOptions(values, 'tui') : undefined;
	if ((values['profile'] || values['profile-file']) && !initialProfile) return EXIT.badInput;
	const {withoutCiFlag} = await import('../tui/without-ci-flag.js');
	const [{openTui}, {renderRunWith}] = await withoutCiFlag(() => Promise.all([import('../tui/open-tui.js'), import('../tui/lazy-run-app.js')]));
	const {realRunServices} = await import('../tui/real-run-services.js');
	// The same context the headless `up` runs with.
	const runServices = realRunServices(planContext());
	const outcome = await openTui({
		initialProfile,
		services: {
			store: profileStore(),
			listTemplates,
			loadTemplate,
			planContext: planContext(),
			writeArtifacts: async plan => {
				const [{writeArtifacts}, {withWorkLock}] = await Promise.all([import('../services/artifacts.js'), import('../services/work-lock.js')]);
				return withWorkLock(plan, 'tui certificates', () => writeArtifacts(plan));
			},
			hostChecks: profile => hostChecks(profile),
		},
		renderRun: renderRunWith(runServices),
		// A signal unmounts the screens, which aborts the run; wait until its nodes are stopped.
		beforeExit: runServices.settled,
	});
	runServices.close();
	if (outcome.saved && outcome.profile) {
		const name = outcome.profile.name;
		console.log(runServices.ran() ? `Profile "${name}" saved. The cluster keeps running: plasma-tui status --profile ${name}; plasma-tui down --profile ${name}` : `Saved profile "${name}". Run it with: plasma-tui up --profile ${name} --yes`);
	}
	return EXIT.ok;
};
