import {render} from 'ink';
import type {ReactNode} from 'react';
import type {Profile} from '../model/profile-schema.js';
import {App} from '../app.js';
import type {WizardServices} from '../hooks/wizard-services.js';

const ENTER_ALT_SCREEN = '\u001B[?1049h\u001B[H';
const LEAVE_ALT_SCREEN = '\u001B[?1049l';

// The one place Ink renders the wizard: alternate screen on open, and left
// again on every way out (normal exit, signals, crashes).
export async function openTui(options: {
	services: WizardServices;
	initialProfile?: Profile;
	renderRun?: (profile: Profile, onExit: () => void) => ReactNode;
	// Awaited after a signal unmounted the screens and before the process exits.
	beforeExit?: () => Promise<unknown>;
}): Promise<{profile?: Profile; saved: boolean}> {
	let outcome: {profile?: Profile; saved: boolean} = {saved: false};
	let left = false;
	const leave = () => {
		if (left) return;
		left = true;
		process.stdout.write(LEAVE_ALT_SCREEN);
	};
	const onSignal = () => {
		instance.unmount();
		leave();
		// Stopping nodes takes QMP powerdown and a grace period; do not wait forever.
		const limit = new Promise(resolve => setTimeout(resolve, 60_000).unref());
		void Promise.race([options.beforeExit?.(), limit]).finally(() => process.exit(130));
	};
	const onCrash = (error: unknown) => {
		leave();
		console.error(error);
		process.exit(1);
	};
	process.stdout.write(ENTER_ALT_SCREEN);
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	process.once('SIGHUP', onSignal);
	process.once('uncaughtException', onCrash);
	process.once('unhandledRejection', onCrash);
	const instance = render(<App services={options.services} initialProfile={options.initialProfile} renderRun={options.renderRun} onExit={result => (outcome = result)} />, {
		maxFps: 20,
		// incrementalRendering left stale lines in the alternate screen under tmux (ink 6.8); full redraws are capped by maxFps.
		incrementalRendering: false,
		patchConsole: false,
		exitOnCtrlC: false,
	});
	try {
		await instance.waitUntilExit();
	} finally {
		leave();
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
		process.off('SIGHUP', onSignal);
		process.off('uncaughtException', onCrash);
		process.off('unhandledRejection', onCrash);
		process.stdin.ref();
	}
	return outcome;
}
