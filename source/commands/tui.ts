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
	const {openTui} = await withoutCiFlag(() => import('../tui/open-tui.js'));
	const {writeArtifacts} = await import('../services/artifacts.js');
	const outcome = await openTui({
		initialProfile,
		services: {store: profileStore(), listTemplates, loadTemplate, planContext: planContext(), writeArtifacts, hostChecks: profile => hostChecks(profile)},
	});
	if (outcome.saved && outcome.profile) console.log(`Saved profile "${outcome.profile.name}". Run it with: plasma-tui up --profile ${outcome.profile.name} --yes`);
	return EXIT.ok;
};
