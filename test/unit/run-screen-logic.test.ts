import {test} from 'node:test';
import assert from 'node:assert/strict';
import type {Key} from 'ink';
import {RingBuffer} from '../../source/model/ring-buffer.js';
import {consoleWindow} from '../../source/screens/components/console-window.js';
import {isTypingEscape, keyToBytes} from '../../source/screens/components/console-keys.js';
import {splitKeys} from '../../source/screens/components/burst-keys.js';
import {elapsed, paneGrid, wrapRows} from '../../source/screens/components/run-format.js';

const NO_KEY: Key = {upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false};

function ring(count: number, capacity = 10): RingBuffer<string> {
	const buffer = new RingBuffer<string>(capacity);
	for (let i = 0; i < count; i++) buffer.push(`line ${i}`);
	return buffer;
}

test('a console window follows the newest lines, or stays put once scrolled up', () => {
	const buffer = ring(25);
	assert.deepEqual(consoleWindow(buffer, 3, undefined), {lines: ['line 22', 'line 23', 'line 24'], end: 25, following: true});
	assert.deepEqual(consoleWindow(buffer, 3, 20), {lines: ['line 17', 'line 18', 'line 19'], end: 20, following: false});
	buffer.push('line 25');
	assert.deepEqual(consoleWindow(buffer, 3, 20).lines, ['line 17', 'line 18', 'line 19']);
	// Scrolled past the oldest kept line: the window clamps to what is kept.
	assert.deepEqual(consoleWindow(buffer, 3, 2), {lines: ['line 16', 'line 17', 'line 18'], end: 19, following: false});
	assert.deepEqual(consoleWindow(ring(2), 3, 1), {lines: ['line 0', 'line 1'], end: 2, following: true});
});

test('ring buffer slices by kept position and counts everything pushed', () => {
	const buffer = ring(25);
	assert.equal(buffer.total, 25);
	assert.deepEqual(buffer.slice(0, 2), ['line 15', 'line 16']);
	assert.deepEqual(buffer.slice(8, 50), ['line 23', 'line 24']);
	assert.deepEqual(buffer.slice(-5, 1), ['line 15']);
});

test('keys become the bytes a terminal sends to a serial console', () => {
	assert.equal(keyToBytes('', {...NO_KEY, return: true}), '\r');
	assert.equal(keyToBytes('', {...NO_KEY, upArrow: true}), '\u001B[A');
	assert.equal(keyToBytes('', {...NO_KEY, delete: true}), '\u007F');
	assert.equal(keyToBytes('c', {...NO_KEY, ctrl: true}), '\u0003');
	assert.equal(keyToBytes('d', {...NO_KEY, ctrl: true}), '\u0004');
	assert.equal(keyToBytes('echo hi', NO_KEY), 'echo hi');
	assert.ok(isTypingEscape('\u001D', NO_KEY));
	assert.ok(!isTypingEscape(']', NO_KEY));
});

test('pane text wraps at spaces and says when it was cut', () => {
	assert.deepEqual(wrapRows('failed: QEMU exited (code 1)', 12, 3), ['failed: QEMU', 'exited (code', '1)']);
	assert.deepEqual(wrapRows('a'.repeat(30), 10, 2), ['a'.repeat(10), `${'a'.repeat(9)}…`]);
	assert.deepEqual(wrapRows('', 10, 2), ['']);
	assert.equal(elapsed(59_999), '59s');
	assert.equal(elapsed(125_000), '2m05s');
	assert.deepEqual(paneGrid(3, 100), {columns: 2, rows: 2, paneWidth: 50});
	assert.deepEqual(paneGrid(16, 80), {columns: 2, rows: 8, paneWidth: 40});
});

test('a burst of keys is taken one key at a time', () => {
	assert.deepEqual(
		splitKeys('\tz', NO_KEY).map(([input, key]) => `${input}${key.tab ? '<tab>' : ''}`),
		['<tab>', 'z'],
	);
	assert.deepEqual(
		splitKeys('q\r\u001D', NO_KEY).map(([input, key]) => `${input}${key.return ? '<enter>' : ''}`),
		['q', '<enter>', '\u001D'],
	);
	assert.equal(splitKeys('x', NO_KEY).length, 1);
	assert.equal(splitKeys('', {...NO_KEY, upArrow: true}).length, 1);
});
