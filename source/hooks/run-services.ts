import type {Profile} from '../model/profile-schema.js';
import type {RunEventListener} from '../model/events.js';
import type {StageName} from '../model/stages.js';
import type {SnapshotServices} from './snapshot-services.js';
import type {NewHostKey} from '../services/ssh-hosts-preflight.js';
import type {TimelineEntry} from '../model/timeline.js';
import type {WatchRoundSummary} from '../model/watch-view.js';
import type {NodePowerAction, NodePowerGuard} from '../model/node-power.js';

export type RunOutcome = {
	exitCode: number;
	failedStage?: StageName;
	interrupted?: boolean;
	// Where the validation report was saved, when validation ran.
	report?: {json: string; text: string};
	error?: string;
};

// What the run screens need from the outside world. The TUI command passes
// the real engine; screen tests pass a recorded event stream.
export type RunServices = {
	// approvedHostKeys: target ssh-hosts, the new host keys the operator confirmed (by pin name).
	startRun(profile: Profile, options: {onEvent: RunEventListener; signal: AbortSignal; approvedHostKeys?: Record<string, string>}): Promise<RunOutcome>;
	// Target ssh-hosts: the host keys the run would have to pin on first use, asked before it starts.
	newHostKeys?(profile: Profile): Promise<NewHostKey[]>;
	// Keeps the consoles live after the run has ended (the engine stops following them then).
	followConsoles?(profile: Profile, options: {onEvent: RunEventListener; signal: AbortSignal}): void;
	sendToConsole?(node: string, data: string): void;
	// The snapshot list (key s), once the run has ended.
	snapshots?: SnapshotServices;
	// Watch mode once the run has ended: the checks again every intervalMs until the signal;
	// their results as check events, each round's changes through onRound.
	watchChecks?(profile: Profile, options: {intervalMs: number; onEvent: RunEventListener; onRound: (round: WatchRoundSummary) => void; signal: AbortSignal}): Promise<void>;
	// The run's timeline (plan.timelineFile), oldest first.
	readTimeline?(profile: Profile): Promise<TimelineEntry[]>;
	// The faults active now (fault freeze, isolate, delay ...), as short markers per node.
	faultMarkers?(profile: Profile): Promise<Record<string, string[]>>;
	// The quorum guard's message before a node stop, start or restart, then the action itself.
	nodePowerGuard?(profile: Profile, node: string, action: NodePowerAction): Promise<NodePowerGuard>;
	powerNode?(profile: Profile, node: string, action: NodePowerAction, options: {onEvent: RunEventListener}): Promise<string>;
};
