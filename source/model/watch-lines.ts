import type {CheckTransition, FactChange} from './check-transitions.js';
import {printableLine} from './printable.js';

// Watch mode's plain lines: one per transition, with the time (UTC) and the reason.

export function clockOf(iso: string): string {
	return iso.slice(11, 19);
}

export function transitionLine(t: CheckTransition): string {
	const change = t.from === undefined ? t.to : `${t.from} -> ${t.to}`;
	const why = t.to === 'ok' ? (t.from === undefined && t.detail ? ` (${t.detail})` : '') : t.reason ? `: ${t.reason}` : '';
	return printableLine(`${clockOf(t.at)} ${t.node ?? 'cluster'} ${t.check}: ${change}${why}`);
}

export function factLine(f: FactChange): string {
	return printableLine(`${clockOf(f.at)} cluster ${f.fact}: ${f.from === undefined ? f.to : `${f.from} -> ${f.to}`} (${f.check})`);
}

export function roundLine(round: {round: number; at: string; durationMs: number; results: ReadonlyArray<{status: string}>}): string {
	const count = (status: string) => round.results.filter(r => r.status === status).length;
	const notRun = count('not-run');
	return `${clockOf(round.at)} round ${round.round}: ${count('ok')} ok, ${count('failed')} failed${notRun > 0 ? `, ${notRun} not run` : ''} (${(round.durationMs / 1000).toFixed(1)} s)`;
}
