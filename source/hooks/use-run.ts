import {useCallback, useEffect, useRef, useState} from 'react';
import type {Profile} from '../model/profile-schema.js';
import type {RunEvent} from '../model/events.js';
import {applyRunEvents, createRunView, type RunView, type RunViewOptions} from '../model/run-view.js';
import type {RunOutcome, RunServices} from './run-services.js';

export type RunState = {
	view: RunView;
	// The clock the panes count elapsed time and spin with; moves on the tick.
	now: number;
	outcome?: RunOutcome;
	stopping: boolean;
	// Aborts the run; resolves once the engine has stopped what it started.
	stop: () => Promise<void>;
	// Feeds events of later operations (a node stop or start) into the same view.
	emit: (event: RunEvent) => void;
};

export type UseRunOptions = RunViewOptions & {
	// Events are folded and drawn at most once per tick, never once per console line.
	tickMs?: number;
	// How often the clock moves when nothing happens (spinners, elapsed seconds).
	clockMs?: number;
};

export function useRun(profile: Profile, services: RunServices, options: UseRunOptions = {}): RunState {
	const tickMs = options.tickMs ?? 100;
	const clockMs = options.clockMs ?? 250;
	const [view, setView] = useState(() => createRunView(profile.nodes.map(n => n.name), Date.now(), options));
	const [now, setNow] = useState(() => Date.now());
	const [outcome, setOutcome] = useState<RunOutcome | undefined>();
	const [stopping, setStopping] = useState(false);
	const viewRef = useRef(view);
	const controllerRef = useRef<AbortController | undefined>(undefined);
	const runRef = useRef<Promise<void>>(Promise.resolve());
	const emitRef = useRef<(event: RunEvent) => void>(() => undefined);

	useEffect(() => {
		const controller = new AbortController();
		controllerRef.current = controller;
		const queue: RunEvent[] = [];
		const onEvent = (event: RunEvent) => queue.push(event);
		emitRef.current = onEvent;
		let finished = false;
		let lastClock = 0;
		const flush = (at: number) => {
			viewRef.current = applyRunEvents(viewRef.current, queue.splice(0), options);
			setView(viewRef.current);
			setNow(at);
			lastClock = at;
		};

		runRef.current = services
			.startRun(profile, {onEvent, signal: controller.signal})
			.catch((error: unknown): RunOutcome => ({exitCode: 1, error: (error as Error).message}))
			.then(result => {
				finished = true;
				// The outcome and the events that led to it appear in the same frame.
				flush(Date.now());
				setOutcome(result);
				if (!controller.signal.aborted) services.followConsoles?.(profile, {onEvent, signal: controller.signal});
			});

		const timer = setInterval(() => {
			const at = Date.now();
			if (queue.length > 0) flush(at);
			else if (!finished && at - lastClock >= clockMs) {
				setNow(at);
				lastClock = at;
			}
		}, tickMs);

		return () => {
			clearInterval(timer);
			controller.abort(new Error('the run screen closed'));
		};
		// The run starts once per mount; a new profile is a new run screen.
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, []);

	const stop = useCallback(async () => {
		setStopping(true);
		controllerRef.current?.abort(new Error('stopped by the operator'));
		await runRef.current;
	}, []);

	const emit = useCallback((event: RunEvent) => emitRef.current(event), []);
	return {view, now, outcome, stopping, stop, emit};
}
