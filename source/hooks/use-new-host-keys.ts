import {useEffect, useState} from 'react';
import type {Profile} from '../model/profile-schema.js';
import type {NewHostKey} from '../services/ssh-hosts-preflight.js';
import type {RunServices} from './run-services.js';

// Before a run on existing machines: the host keys it would pin on first use,
// for the operator to accept (y) or not (n) before anything connects with them.
// `approved` is what the run gets: undefined until decided, {} when nothing is accepted.
export type HostKeysDecision =
	| {status: 'scanning'}
	| {status: 'asking'; keys: NewHostKey[]; accept: () => void; decline: () => void}
	| {status: 'decided'; approved: Record<string, string>};

export function useNewHostKeys(profile: Profile, services: RunServices): HostKeysDecision {
	const ask = profile.target.kind === 'ssh-hosts' && services.newHostKeys !== undefined;
	const [keys, setKeys] = useState<NewHostKey[] | undefined>(ask ? undefined : []);
	const [approved, setApproved] = useState<Record<string, string> | undefined>(ask ? undefined : {});
	useEffect(() => {
		if (!ask) return;
		let live = true;
		// A failed scan asks nothing: preflight then names every key it would not accept.
		void services.newHostKeys!(profile).then(
			found => live && (setKeys(found), found.length === 0 && setApproved({})),
			() => live && (setKeys([]), setApproved({})),
		);
		return () => void (live = false);
		// Once per run screen: a new profile is a new run screen.
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, []);
	if (approved) return {status: 'decided', approved};
	if (!keys) return {status: 'scanning'};
	return {
		status: 'asking',
		keys,
		accept: () => setApproved(Object.fromEntries(keys.map(k => [k.name, k.fingerprint]))),
		decline: () => setApproved({}),
	};
}
