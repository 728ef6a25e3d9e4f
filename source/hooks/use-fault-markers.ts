import {useEffect, useRef, useState} from 'react';
import type {RunEventListener} from '../model/events.js';
import {markerEvents} from '../model/fault-events.js';
import type {Profile} from '../model/profile-schema.js';
import type {RunServices} from './run-services.js';

const POLL_MS = 2000;

// The faults another process puts on the cluster (`plasma-tui fault ...`, a
// rehearsal), read every 2 s while the run screens are open: the markers on
// each pane, and each change as an event (emit) in the node's log.
export function useFaultMarkers(profile: Profile, services: Pick<RunServices, 'faultMarkers'>, emit?: RunEventListener): Record<string, string[]> {
	const [markers, setMarkers] = useState<Record<string, string[]>>({});
	const seen = useRef<Record<string, string[]>>({});
	const emitRef = useRef(emit);
	emitRef.current = emit;
	useEffect(() => {
		if (!services.faultMarkers) return;
		let stopped = false;
		const read = () =>
			void services.faultMarkers?.(profile).then(
				next => {
					if (stopped) return;
					for (const event of markerEvents(seen.current, next, Date.now())) emitRef.current?.(event);
					seen.current = next;
					setMarkers(current => (JSON.stringify(current) === JSON.stringify(next) ? current : next));
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
