import {useEffect, useState} from 'react';
import type {Profile} from '../model/profile-schema.js';
import type {TimelineEntry} from '../model/timeline.js';
import type {RunServices} from './run-services.js';

export const TIMELINE_POLL_MS = 1_000;

// The run's timeline, read again every second while it is shown (other
// terminals append faults to it too).
export function useTimeline(profile: Profile, services: RunServices, shown: boolean, pollMs = TIMELINE_POLL_MS): {entries: TimelineEntry[]; error?: string} {
	const [read, setRead] = useState<{entries: TimelineEntry[]; error?: string}>({entries: []});
	useEffect(() => {
		if (!shown || !services.readTimeline) return;
		let stopped = false;
		const load = () =>
			services.readTimeline!(profile).then(
				entries => !stopped && setRead(current => (current.entries.length === entries.length && !current.error ? current : {entries})),
				(error: unknown) => !stopped && setRead(current => ({...current, error: (error as Error).message})),
			);
		void load();
		const timer = setInterval(() => void load(), pollMs);
		return () => {
			stopped = true;
			clearInterval(timer);
		};
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [shown]);
	return read;
}
