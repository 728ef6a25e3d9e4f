import {test} from 'node:test';
import assert from 'node:assert/strict';
import {scrollTimeline, timelineLines, timelineWindow} from '../../source/model/timeline-view.js';
import {formatTimelineRun, timelineRuns} from '../../source/model/timeline-runs.js';
import type {TimelineEntry} from '../../source/model/timeline.js';
import {applyWatchRound, createWatchView, toggleWatch, watchStatusLine, WATCH_CHANGES_KEPT} from '../../source/model/watch-view.js';

const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, s)).toISOString();

test('the timeline splits into runs at each run entry; a fault before any run is a run of its own', () => {
	const entries: TimelineEntry[] = [
		{at: at(0), kind: 'fault', subject: 'node02', node: 'node02', detail: 'kill'},
		{at: at(1), kind: 'run', subject: 'demo', detail: 'plasma-tui up'},
		{at: at(3), kind: 'check', subject: 'ssh', node: 'node01', to: 'ok'},
		{at: at(10), kind: 'run', subject: 'demo', detail: 'plasma-tui watch'},
		{at: at(12), kind: 'fact', subject: 'leader', from: 'node01', to: 'node03', data: {check: 'raft-quorum :2379'}},
	];
	const runs = timelineRuns(entries);
	assert.deepEqual(runs.map(r => [r.start?.detail, r.entries.length]), [[undefined, 1], ['plasma-tui up', 1], ['plasma-tui watch', 1]]);
	assert.deepEqual(formatTimelineRun(runs[2]!), [`${at(10)} run: plasma-tui watch (demo)`, '  +2.0s fact leader node01 -> node03']);
	assert.deepEqual(timelineLines(entries).slice(1, 3), [`── ${at(1)} run: plasma-tui up`, '+2.0s check ssh on node01 ? -> ok']);
});

test('the timeline window follows the newest entries, stays put once scrolled up, and follows again at the end', () => {
	assert.deepEqual(timelineWindow(3, 10, {}), {first: 0, last: 3, following: true});
	assert.deepEqual(timelineWindow(50, 10, {}), {first: 40, last: 50, following: true});
	let scroll = scrollTimeline({}, 'pageUp', 50, 10);
	assert.deepEqual(scroll, {end: 40});
	// New entries arrive: the window does not move.
	assert.deepEqual(timelineWindow(55, 10, scroll), {first: 30, last: 40, following: false});
	scroll = scrollTimeline(scroll, 'home', 55, 10);
	assert.deepEqual(timelineWindow(55, 10, scroll), {first: 0, last: 10, following: false});
	assert.deepEqual(scrollTimeline(scroll, 'up', 55, 10), {end: 10}, 'the top stops at the first entry');
	assert.deepEqual(scrollTimeline({end: 54}, 'down', 55, 10), {}, 'down to the newest follows again');
	assert.deepEqual(scrollTimeline(scroll, 'end', 55, 10), {});
});

test('watch view: first results are not changes, later ones are; the list is bounded; w toggles', () => {
	let view = createWatchView(true, 5000);
	const round = {durationMs: 100, green: true, facts: [], silent: {}, wentSilent: [], answersAgain: []};
	view = applyWatchRound(view, {...round, round: 1, at: at(0), transitions: [{check: 'ssh', node: 'node01', to: 'ok', at: at(0)}]});
	assert.deepEqual(view.changes, []);
	assert.equal(watchStatusLine(view), 'watch: on, every 5 s · round 1 at 10:00:00: all green · w stops');
	for (let i = 0; i < WATCH_CHANGES_KEPT + 5; i++) {
		view = applyWatchRound(view, {...round, round: i + 2, at: at(1), green: false, transitions: [{check: 'ssh', node: 'node01', from: i % 2 ? 'failed' : 'ok', to: i % 2 ? 'ok' : 'failed', reason: 'gone', at: at(1)}]});
	}
	assert.equal(view.changes.length, WATCH_CHANGES_KEPT);
	assert.equal(view.changes.at(-1), '10:00:01 node01 ssh: ok -> failed: gone');
	assert.equal(watchStatusLine(toggleWatch(view)), 'watch: off (w re-runs the checks every few seconds)');
});
