import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import type {RunEvent} from '../../source/model/events.js';
import {TimelineRecorder} from '../../source/engine/timeline-recorder.js';
import {NodePhases} from '../../source/engine/node-phases.js';
import {readTimeline} from '../../source/services/timeline.js';
import {formatTimelineEntry} from '../../source/model/timeline.js';
import {tempDir} from '../helpers.js';

// Events come after the run's start (the recorder stamps it when it is made).
const T0 = Date.now() + 60_000;

function planIn(dir: string) {
	const workDir = path.join(dir, 'work');
	return {workDir, timelineFile: path.join(workDir, 'timeline.jsonl')};
}

test('a run records its start, node phase changes, check transitions with reasons and the leader facts; waits and consoles stay out', async () => {
	const plan = planIn(tempDir());
	const passed: RunEvent[] = [];
	const recorder = new TimelineRecorder(plan, 'up', 'demo');
	const emit = recorder.listener(event => passed.push(event));
	const phases = new NodePhases(['node01'], emit, {setNode: async () => undefined});
	await phases.set('node01', 'booting');
	// NodePhases stamps its events now: keep the order of the test's clock.
	passed.length = 0;
	emit({type: 'console', node: 'node01', line: 'Linux version', at: T0 + 1000});
	emit({type: 'check', node: 'node01', check: 'ssh', status: 'waiting', detail: 'waiting for ssh', at: T0 + 2000});
	emit({type: 'check', node: 'node01', check: 'ssh', status: 'ok', detail: 'answers', at: T0 + 3000});
	emit({type: 'check', check: 'raft-quorum :2379', status: 'ok', detail: '3 members', facts: {leader: 'node01', term: 2, members: 3}, at: T0 + 4000});
	emit({type: 'check', node: 'node01', check: 'ssh', status: 'failed', detail: 'no SSH connection', at: T0 + 5000});
	emit({type: 'check', check: 'raft-quorum :2379', status: 'ok', detail: '3 members', facts: {leader: 'node02', term: 3, members: 3}, at: T0 + 6000});
	await recorder.flush();
	assert.equal(passed.length, 6, 'every event reaches the screens or lines as before');

	const {entries, skipped} = await readTimeline(plan.timelineFile);
	assert.equal(skipped, 0);
	const start = entries[0]!;
	assert.equal(start.kind, 'run');
	assert.equal(start.subject, 'demo');
	assert.equal(start.detail, 'plasma-tui up');
	const lines = entries.slice(1).map(entry => formatTimelineEntry(entry));
	assert.deepEqual(
		lines.map(line => line.replace(/^\S+ /, '')),
		[
			'node-phase node01 pending -> booting',
			'check ssh on node01 ? -> ok',
			'check raft-quorum :2379 ? -> ok',
			'fact leader ? -> node01',
			'fact term ? -> 2',
			'fact members ? -> 3',
			'check ssh on node01 ok -> failed: no SSH connection',
			'fact leader node01 -> node02',
			'fact term 2 -> 3',
		],
	);
	assert.equal(entries.find(e => e.kind === 'fact' && e.subject === 'leader' && e.to === 'node02')?.at, new Date(T0 + 6000).toISOString());
	assert.equal((await fs.stat(plan.timelineFile)).mode & 0o777, 0o600);
});

test('a run that records nothing leaves no timeline and no work directory', async () => {
	const plan = planIn(tempDir());
	const recorder = new TimelineRecorder(plan, 'validate', 'demo');
	const emit = recorder.listener(() => undefined);
	emit({type: 'stage', stage: 'preflight', status: 'failed', message: 'no qemu', at: T0});
	await recorder.flush();
	await assert.rejects(fs.stat(plan.workDir), {code: 'ENOENT'});
});

test('a timeline that cannot be written is said once and does not stop the run', async () => {
	const dir = tempDir();
	const plan = planIn(dir);
	await fs.mkdir(plan.workDir, {recursive: true});
	await fs.symlink('/nonexistent-target', plan.timelineFile);
	const problems: string[] = [];
	const recorder = new TimelineRecorder(plan, 'up', 'demo', message => problems.push(message));
	const emit = recorder.listener(() => undefined);
	emit({type: 'check', node: 'node01', check: 'ssh', status: 'ok', at: T0});
	emit({type: 'check', node: 'node01', check: 'ssh', status: 'failed', detail: 'x', at: T0 + 1});
	await recorder.flush();
	assert.equal(problems.length, 1);
	assert.match(problems[0]!, /timeline .* could not be written/);
});
