import type {Plan} from '../model/plan.js';
import type {RunEventListener} from '../model/events.js';
import {EMPTY_CHECK_MEMORY, type CheckMemory} from '../model/check-transitions.js';
import type {TimelineEntry} from '../model/timeline.js';
import {runEntry, timelineEntriesOf} from '../model/timeline-record.js';
import {ensureWorkDirs} from '../services/owned-dir.js';
import {appendTimeline} from '../services/timeline.js';

// Records one run (up, validate, watch) into plan.timelineFile. The run's entry
// is written with the first thing worth recording, so a run that ends before
// touching a node (a plan problem, a failed preflight) leaves no empty run and
// never makes the work directory. Writes are chained in order; a write that
// fails is said once and does not stop the run.
export class TimelineRecorder {
	#memory: CheckMemory = EMPTY_CHECK_MEMORY;
	#chain: Promise<void> = Promise.resolve();
	#started = false;
	#failed = false;
	readonly #run: TimelineEntry;

	constructor(
		private readonly plan: Pick<Plan, 'workDir' | 'timelineFile'>,
		command: string,
		profile: string,
		private readonly onProblem: (message: string) => void = () => undefined,
	) {
		this.#run = runEntry(command, profile, new Date());
	}

	// The run's events pass through to `next`; what they change is recorded.
	listener(next: RunEventListener): RunEventListener {
		return event => {
			const seen = timelineEntriesOf(this.#memory, event);
			this.#memory = seen.memory;
			this.record(seen.entries);
			next(event);
		};
	}

	record(entries: readonly TimelineEntry[]): void {
		if (entries.length === 0) return;
		const batch = this.#started ? [...entries] : [this.#run, ...entries];
		this.#started = true;
		this.#chain = this.#chain
			.then(async () => {
				await ensureWorkDirs(this.plan.workDir);
				await appendTimeline(this.plan.timelineFile, batch);
			})
			.catch((error: unknown) => {
				if (this.#failed) return;
				this.#failed = true;
				this.onProblem(`the timeline ${this.plan.timelineFile} could not be written: ${(error as Error).message}`);
			});
	}

	// Resolves once everything recorded so far is on disk.
	flush(): Promise<void> {
		return this.#chain;
	}
}
