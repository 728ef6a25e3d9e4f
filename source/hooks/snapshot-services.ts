import type {Profile} from '../model/profile-schema.js';
import type {SnapshotRow} from '../model/snapshot.js';

// What the snapshot list needs from the outside world: the TUI passes the
// engine (under the work-directory lock), screen tests pass a fake.
export type SnapshotOutcome = {ok: boolean; message: string};

export type SnapshotServices = {
	list(profile: Profile): Promise<SnapshotRow[]>;
	save(profile: Profile, name: string): Promise<SnapshotOutcome>;
	restore(profile: Profile, name: string): Promise<SnapshotOutcome>;
	remove(profile: Profile, name: string): Promise<SnapshotOutcome>;
};
