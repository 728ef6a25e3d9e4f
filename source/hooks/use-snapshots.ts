import {useCallback, useEffect, useState} from 'react';
import type {Profile} from '../model/profile-schema.js';
import {timedSnapshotName, type SnapshotRow} from '../model/snapshot.js';
import type {SnapshotServices} from './snapshot-services.js';

export type SnapshotAction = 'save' | 'restore' | 'delete';

export type SnapshotsState = {
	rows: SnapshotRow[];
	// What runs now ("restoring s1"), undefined when idle.
	busy?: string;
	// The last outcome, one line.
	message?: {text: string; ok: boolean};
	act: (action: SnapshotAction, name?: string) => void;
};

// The snapshot list and its three actions, one at a time; the list is read again after each.
export function useSnapshots(profile: Profile, services: SnapshotServices | undefined, enabled: boolean): SnapshotsState {
	const [rows, setRows] = useState<SnapshotRow[]>([]);
	const [busy, setBusy] = useState<string | undefined>();
	const [message, setMessage] = useState<SnapshotsState['message']>();

	const reload = useCallback(async () => {
		if (!services) return;
		setRows(await services.list(profile).catch(() => []));
	}, [services, profile]);

	useEffect(() => {
		if (enabled) void reload();
	}, [enabled, reload]);

	const act = useCallback(
		(action: SnapshotAction, name?: string) => {
			if (!services || busy) return;
			const target = action === 'save' ? timedSnapshotName(new Date()) : name;
			if (!target) return;
			setBusy(`${action === 'save' ? 'saving' : action === 'restore' ? 'restoring' : 'deleting'} ${target}`);
			setMessage(undefined);
			const work = action === 'save' ? services.save(profile, target) : action === 'restore' ? services.restore(profile, target) : services.remove(profile, target);
			void work
				.catch((error: unknown) => ({ok: false, message: (error as Error).message}))
				.then(async outcome => {
					setMessage({text: outcome.message, ok: outcome.ok});
					await reload();
					setBusy(undefined);
				});
		},
		[services, profile, busy, reload],
	);

	return {rows, busy, message, act};
}
