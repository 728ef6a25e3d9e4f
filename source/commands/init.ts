import {EXIT} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const template = typeof values['template'] === 'string' ? values['template'] : undefined;
	const plain = values['plain'] === true || !process.stdin.isTTY || !process.stdout.isTTY || process.env['TERM'] === 'dumb';
	if (plain) {
		const {runPlainInit} = await import('../plain/init-plain.js');
		return runPlainInit({template});
	}
	const {run: runTui} = await import('./tui.js');
	const {loadTemplate} = await import('../services/profiles.js');
	if (template && !loadTemplate(template).ok) {
		console.error(`plasma-tui init: no built-in template named "${template}"`);
		return EXIT.badInput;
	}
	return runTui({values: template ? {profile: template} : {}, positionals: []});
};
