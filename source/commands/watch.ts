import {TimelineRecorder} from '../engine/timeline-recorder.js';
import {silentLine, WATCH_CONNECT_TIMEOUT_MS, watchCheckTimeoutMs, watchCluster} from '../engine/watch.js';
import {checksThatChangeNothing} from '../services/checks/registry.js';
import {clockOf, factLine, roundLine, transitionLine} from '../model/watch-lines.js';
import {checksFromOnly, EXIT, planFor, profileFromOptions} from './common.js';
import {abortOnSignals} from './interrupt.js';
import type {CommandRun} from './registry.js';

// A heartbeat line at most once a minute, so a quiet watch still shows it is alive.
const HEARTBEAT_MS = 60_000;

function seconds(value: unknown, option: string, fallback?: number): number | undefined | 'bad' {
	if (value === undefined) return fallback;
	const number = Number(value);
	if (Number.isFinite(number) && number > 0) return number;
	console.error(`plasma-tui watch: ${option} must be a positive number of seconds, got "${String(value)}"`);
	return 'bad';
}

// No work-directory lock: watch only reads the cluster and appends to the
// timeline (O_APPEND lines, safe beside other writers). Holding the lock for
// its whole life would refuse `fault`, `node stop` or `down` from another
// terminal, which are exactly what an operator watches for.
export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'watch');
	if (!profile) return EXIT.badInput;
	const intervalSec = seconds(values['interval'], '--interval', 5);
	const forSec = seconds(values['for'], '--for');
	if (intervalSec === 'bad' || forSec === 'bad') return EXIT.badInput;
	const chosen = checksFromOnly(profile, values['only'], 'watch');
	if (!chosen) return EXIT.badInput;
	const {checks, left} = checksThatChangeNothing(chosen);
	if (checks.length === 0) {
		console.error(`plasma-tui watch: no check of "${profile.name}" can be watched${left.length > 0 ? ` (${left.map(l => `${l.check}: ${l.why}`).join('; ')})` : ''}`);
		return EXIT.badInput;
	}
	const plan = planFor(profile);
	const intervalMs = intervalSec! * 1000;
	const controller = new AbortController();
	const releaseSignals = abortOnSignals(controller);
	const timeline = new TimelineRecorder(plan, 'watch', profile.name, message => console.error(`plasma-tui watch: ${message}`));
	console.log(
		`watching ${checks.length} checks of "${profile.name}" every ${intervalSec} s${forSec ? ` for ${forSec} s` : ''} (each check waits at most ${watchCheckTimeoutMs(intervalMs) / 1000} s, SSH ${WATCH_CONNECT_TIMEOUT_MS / 1000} s); ctrl-c stops`,
	);
	for (const {check, why} of left) console.log(`not watched: ${check} (${why})`);
	let lastBeat = Date.now();
	try {
		const result = await watchCluster(profile, plan, {
			checks,
			intervalMs,
			forMs: forSec === undefined ? undefined : forSec * 1000,
			signal: controller.signal,
			timeline,
			onRound: round => {
				for (const node of round.wentSilent) console.log(`${clockOf(round.at)} ${silentLine(node, round.silent[node]!)}`);
				for (const node of round.answersAgain) console.log(`${clockOf(round.at)} ${node} answers on SSH again`);
				for (const transition of round.transitions) console.log(transitionLine(transition));
				for (const fact of round.facts) console.log(factLine(fact));
				if (round.round === 1 || Date.now() - lastBeat >= HEARTBEAT_MS) {
					console.log(roundLine(round));
					lastBeat = Date.now();
				}
			},
		});
		const last = result.last;
		const how = result.interrupted ? 'stopped' : 'ended';
		if (!last) {
			console.log(`watch ${how} before a round finished`);
			return EXIT.failed;
		}
		console.log(`watch ${how} after ${result.rounds} rounds; last ${roundLine(last)}`);
		return last.green ? EXIT.ok : EXIT.failed;
	} finally {
		releaseSignals();
	}
};
