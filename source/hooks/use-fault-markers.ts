import {useEffect, useState} from 'react';
import type {Profile} from '../model/profile-schema.js';
import type {RunServices} from './run-services.js';

const POLL_MS = 2000;

// The faults another process puts on the cluster (`plasma-tui fault ...`),
// read every 2 s while the run screens are open.
export function useFaultMarkers(profile: Profile, services: Pick<RunServices, 'faultMarkers'>): Record<string, string[]> {
	const [markers, setMarkers] = useState<Record<string, string[]>>({});
	useEffect(() => {
		if (!services.faultMarkers) return;
		let stopped = false;
		const read = () =>
			void services.faultMarkers?.(profile).then(
				next => {
					if (!stopped) setMarkers(current => (JSON.stringify(current) === JSON.stringify(next) ? current : next));
				},
				() => undefined,
			);
		read();
		const timer = setInterval(read, POLL_MS);
		return () => {
			stopped = true;
			clearInterval(timer);
		};
	}, [profile, services]);
	return markers;
}
