import type {RunEvent} from '../../source/model/events.js';
import type {RunOutcome, RunServices} from '../../source/hooks/run-services.js';

type FakeOptions = {
	// Events handed over per turn of the event loop, as a busy engine would.
	chunk?: number;
	// Pause between chunks, for a stream that lasts a while.
	delayMs?: number;
	// How the run ends; without it the run goes on until it is aborted.
	outcome?: RunOutcome;
};

// A stand-in for the engine that replays a recorded event stream.
export function fakeRun(events: RunEvent[], options: FakeOptions = {}) {
	const sent: Array<[string, string]> = [];
	const state = {aborted: false, finished: false, emit: (_event: RunEvent) => undefined as void};
	const services: RunServices = {
		async startRun(_profile, {onEvent, signal}) {
			state.emit = onEvent;
			const chunk = options.chunk ?? events.length;
			for (let at = 0; at < events.length; at += chunk) {
				if (signal.aborted) break;
				for (const event of events.slice(at, at + chunk)) onEvent(event);
				await new Promise(resolve => (options.delayMs ? setTimeout(resolve, options.delayMs) : setImmediate(resolve)));
			}
			if (options.outcome && !signal.aborted) {
				state.finished = true;
				return options.outcome;
			}
			await new Promise(resolve => (signal.aborted ? resolve(undefined) : signal.addEventListener('abort', resolve, {once: true})));
			state.aborted = true;
			// The engine stops the nodes it started before it returns.
			await new Promise(resolve => setTimeout(resolve, 50));
			state.finished = true;
			onEvent({type: 'log', level: 'warn', message: 'stopped: node01, node02, node03', at: Date.now()});
			return {exitCode: 130, interrupted: true};
		},
		sendToConsole(node, data) {
			sent.push([node, data]);
		},
	};
	return {services, sent, state};
}
