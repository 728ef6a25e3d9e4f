import {useEffect, useState} from 'react';
import type {Profile} from '../model/profile-schema.js';
import type {RunEventListener} from '../model/events.js';
import {applyWatchRound, createWatchView, toggleWatch, type WatchView} from '../model/watch-view.js';
import type {RunServices} from './run-services.js';

export const TUI_WATCH_INTERVAL_MS = 5_000;

// Watch mode in the run screens: once the run has validated a cluster that
// keeps running, its checks run again every few seconds (on by default: the
// checklist stays true while faults happen from another terminal). The
// results go into the run's own view through emit; the changes into WatchView.
export function useWatch(profile: Profile, services: RunServices, options: {ready: boolean; emit: RunEventListener; intervalMs?: number}): {watch: WatchView; toggle: () => void; available: boolean} {
	const available = options.ready && services.watchChecks !== undefined;
	const [watch, setWatch] = useState(() => createWatchView(true, options.intervalMs ?? TUI_WATCH_INTERVAL_MS));
	const running = available && watch.on;
	useEffect(() => {
		if (!running) return;
		const controller = new AbortController();
		void services
			.watchChecks!(profile, {intervalMs: watch.intervalMs, onEvent: options.emit, onRound: round => setWatch(view => applyWatchRound(view, round)), signal: controller.signal})
			.catch(() => undefined);
		return () => controller.abort(new Error('watch stopped'));
		// One watch per "on": the interval and services do not change while it runs.
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [running]);
	return {watch, toggle: () => setWatch(toggleWatch), available};
}
