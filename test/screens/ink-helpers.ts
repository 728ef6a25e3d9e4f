import path from 'node:path';
import {ProfileStore, listTemplates, loadTemplate} from '../../source/services/profiles.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import type {WizardServices} from '../../source/hooks/wizard-services.js';
import {tempDir} from '../helpers.js';

export const KEYS = {
	up: '\u001B[A',
	down: '\u001B[B',
	right: '\u001B[C',
	left: '\u001B[D',
	enter: '\r',
	escape: '\u001B',
	tab: '\t',
	backspace: '\u007F',
	ctrlU: '\u0015',
};

// Frames wrap at the test terminal's width; compare text with line breaks folded to spaces.
export function flat(frame: string): string {
	return frame.replace(/\s*\n\s*/g, ' ');
}

// Waits for a frame that passes the check, instead of sleeping a guessed time.
export async function waitForFrame(lastFrame: () => string | undefined, check: (frame: string) => boolean, what: string, timeoutMs = 3000): Promise<string> {
	const started = Date.now();
	for (;;) {
		const frame = flat(lastFrame() ?? '');
		if (check(frame)) return frame;
		if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last frame:\n${frame}`);
		await new Promise(resolve => setTimeout(resolve, 10));
	}
}

// Sends keys one event at a time, letting Ink render between them like a person typing.
// The first wait lets a screen that just appeared register its input handler.
export async function press(stdin: {write: (data: string) => void}, ...keys: string[]): Promise<void> {
	await new Promise(resolve => setTimeout(resolve, 30));
	for (const key of keys) {
		stdin.write(key);
		await new Promise(resolve => setTimeout(resolve, 25));
	}
}

export async function type(stdin: {write: (data: string) => void}, text: string): Promise<void> {
	await press(stdin, ...text.split(''));
}

export function realServices(home = tempDir('plasma-ink-')): WizardServices & {home: string; store: ProfileStore} {
	return {
		home,
		store: new ProfileStore(path.join(home, 'config')),
		listTemplates,
		loadTemplate,
		planContext: {clustersDir: path.join(home, 'clusters'), imageDir: path.join(home, 'image'), home},
		writeArtifacts,
		hostChecks: async () => [],
	};
}

// The text inside the bordered pane whose first row starts with `title`, rows
// joined with spaces: panes sit side by side, so a flat frame mixes them.
export function paneText(frame: string, title: string): string {
	const lines = frame.split('\n');
	const row = lines.findIndex(line => line.includes(`│ ${title}`) || line.includes(`┃${title}`) || line.includes(`│${title}`));
	if (row < 0) return '';
	const at = lines[row]!.indexOf(title);
	let top = row;
	while (top > 0 && !/[╭┌┏]/.test(lines[top]![at] ?? '')) {
		if (/[╭┌┏─━]/.test(lines[top - 1]![at] ?? '')) {
			top--;
			break;
		}
		top--;
	}
	const border = lines[top]!;
	let left = at;
	while (left > 0 && !/[╭┌┏]/.test(border[left]!)) left--;
	let right = at;
	while (right < border.length - 1 && !/[╮┐┓]/.test(border[right]!)) right++;
	const rows: string[] = [];
	for (let r = top + 1; r < lines.length && !/[╰└┗]/.test(lines[r]![left] ?? ''); r++) rows.push(lines[r]!.slice(left + 1, right).trim());
	return rows.filter(Boolean).join(' ').replace(/\s+/g, ' ');
}
