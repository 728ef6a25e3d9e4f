import {lazy, Suspense, type ReactNode} from 'react';
import type {Profile} from '../model/profile-schema.js';
import type {RunServices} from '../hooks/run-services.js';

// The run screens load once the plan is accepted, not before the wizard's first frame.
const RunApp = lazy(async () => ({default: (await import('../run-app.js')).RunApp}));

export function renderRunWith(services: RunServices): (profile: Profile, onExit: () => void) => ReactNode {
	return (profile, onExit) => (
		<Suspense fallback={null}>
			<RunApp profile={profile} services={services} onExit={onExit} />
		</Suspense>
	);
}
