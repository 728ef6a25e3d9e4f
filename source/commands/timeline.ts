import {formatProblem, problemOf} from '../model/field-error.js';
import {formatTimelineRun, timelineRuns} from '../model/timeline-runs.js';
import {readTimeline} from '../services/timeline.js';
import {EXIT, planFor, profileFromOptions} from './common.js';
import type {CommandRun} from './registry.js';

// Reads the timeline only: no lock, so it works while up, watch or a fault runs.
export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'timeline');
	if (!profile) return EXIT.badInput;
	const which = values['run'] ?? 'last';
	if (which !== 'last' && which !== 'all') {
		console.error(`plasma-tui timeline: --run must be "last" or "all", got "${String(which)}"`);
		return EXIT.badInput;
	}
	const plan = planFor(profile);
	let read;
	try {
		read = await readTimeline(plan.timelineFile);
	} catch (error) {
		console.error(`plasma-tui timeline: ${formatProblem(problemOf(error))}`);
		return EXIT.failed;
	}
	const runs = timelineRuns(read.entries);
	const shown = which === 'all' ? runs : runs.slice(-1);
	if (values['json']) {
		for (const entry of shown.flatMap(r => (r.start ? [r.start, ...r.entries] : r.entries))) console.log(JSON.stringify(entry));
	} else if (shown.length === 0) {
		console.log(`nothing recorded for "${profile.name}" yet (${plan.timelineFile}); up, validate, watch and faults record here`);
	} else {
		for (const lines of shown.map(formatTimelineRun)) console.log(lines.join('\n'));
		if (which === 'last' && runs.length > 1) console.log(`(${runs.length - 1} earlier runs: --run all)`);
	}
	if (read.skipped > 0) console.error(`plasma-tui timeline: ${read.skipped} line(s) of ${plan.timelineFile} are not timeline entries and were skipped`);
	return EXIT.ok;
};
