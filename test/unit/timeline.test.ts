import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {appendTimeline, readTimeline} from '../../source/services/timeline.js';
import {formatTimelineEntry} from '../../source/model/timeline.js';
import {tempDir} from '../helpers.js';

test('the timeline appends JSON lines and reads them back in time order, counting bad lines', async () => {
	const file = path.join(tempDir(), 'timeline.jsonl');
	await appendTimeline(file, {at: '2026-12-01T10:00:02.000Z', kind: 'check', subject: 'raft-quorum', from: 'ok', to: 'failed'});
	await appendTimeline(file, [{at: '2026-12-01T10:00:01.000Z', kind: 'fault', subject: 'node02', node: 'node02', detail: 'kill', data: {signal: 'SIGKILL'}}]);
	await fs.appendFile(file, '{"torn\n');
	const read = await readTimeline(file);
	assert.equal(read.skipped, 1);
	assert.deepEqual(read.entries.map(e => e.kind), ['fault', 'check']);
	assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
	assert.equal(formatTimelineEntry(read.entries[1]!, read.entries[0]!.at), '+1.0s check raft-quorum ok -> failed');
});

test('an entry of the wrong shape is refused before it is written', async () => {
	const file = path.join(tempDir(), 'timeline.jsonl');
	await assert.rejects(appendTimeline(file, {at: 'x', kind: 'nonsense', subject: 'a'} as never));
	assert.deepEqual((await readTimeline(file)).entries, []);
});
