import type {CheckTransition, FactChange} from './check-transitions.js';
import {clockOf, factLine, transitionLine} from './watch-lines.js';

// Watch mode in the run screens, pure: whether it is on, the last round, and
// the changes it saw (newest last, a bounded list). Rounds come from the hook.

export const WATCH_CHANGES_KEPT = 100;

export type WatchRoundSummary = {
	round: number;
	at: string;
	durationMs: number;
	green: boolean;
	transitions: readonly CheckTransition[];
	facts: readonly FactChange[];
	silent: Readonly<Record<string, string>>;
	wentSilent: readonly string[];
	answersAgain: readonly string[];
};

export type WatchView = {
	on: boolean;
	intervalMs: number;
	rounds: number;
	last?: {at: string; green: boolean; durationMs: number; silent: string[]};
	changes: string[];
};

export function createWatchView(on: boolean, intervalMs: number): WatchView {
	return {on, intervalMs, rounds: 0, changes: []};
}

export function toggleWatch(view: WatchView): WatchView {
	return {...view, on: !view.on};
}

export function applyWatchRound(view: WatchView, round: WatchRoundSummary): WatchView {
	const lines = [
		...round.wentSilent.map(node => `${clockOf(round.at)} ${node} does not answer on SSH`),
		...round.answersAgain.map(node => `${clockOf(round.at)} ${node} answers on SSH again`),
		// The first round's results are the checklist itself: only later rounds are changes.
		...(view.rounds === 0 ? [] : round.transitions.map(transitionLine)),
		...round.facts.map(factLine),
	];
	return {
		...view,
		rounds: view.rounds + 1,
		last: {at: round.at, green: round.green, durationMs: round.durationMs, silent: Object.keys(round.silent)},
		changes: lines.length === 0 ? view.changes : [...view.changes, ...lines].slice(-WATCH_CHANGES_KEPT),
	};
}

export function watchStatusLine(view: WatchView): string {
	if (!view.on) return 'watch: off (w re-runs the checks every few seconds)';
	const every = `every ${view.intervalMs < 1000 ? `${view.intervalMs} ms` : `${Math.round(view.intervalMs / 1000)} s`}`;
	if (!view.last) return `watch: on, ${every} · first round running`;
	const silent = view.last.silent.length > 0 ? ` · silent: ${view.last.silent.join(', ')}` : '';
	return `watch: on, ${every} · round ${view.rounds} at ${clockOf(view.last.at)}: ${view.last.green ? 'all green' : 'not green'}${silent} · w stops`;
}
