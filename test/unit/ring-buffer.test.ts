import {test} from 'node:test';
import assert from 'node:assert/strict';
import {RingBuffer} from '../../source/model/ring-buffer.js';

test('ring buffer keeps the newest lines in order under 100k pushes', () => {
	const ring = new RingBuffer<string>(1000);
	for (let i = 0; i < 100_000; i++) ring.push(`line ${i}`);
	assert.equal(ring.size, 1000);
	assert.equal(ring.dropped, 99_000);
	const all = ring.toArray();
	assert.equal(all.length, 1000);
	assert.equal(all[0], 'line 99000');
	assert.equal(all.at(-1), 'line 99999');
	assert.deepEqual(ring.tail(3), ['line 99997', 'line 99998', 'line 99999']);
	assert.equal(ring.last(), 'line 99999');
});

test('ring buffer below capacity returns what was pushed', () => {
	const ring = new RingBuffer<number>(5);
	assert.deepEqual(ring.toArray(), []);
	assert.equal(ring.last(), undefined);
	ring.push(1);
	ring.push(2);
	assert.deepEqual(ring.toArray(), [1, 2]);
	assert.deepEqual(ring.tail(10), [1, 2]);
	assert.equal(ring.dropped, 0);
});
