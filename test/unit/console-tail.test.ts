import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {printableLine, tailFile} from '../../source/services/console-tail.js';
import {RingBuffer} from '../../source/model/ring-buffer.js';
import {waitFor} from '../helpers.js';

async function tempDir(): Promise<string> {
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-tail-'));
	process.env.PLASMA_TUI_HOME = dir;
	return dir;
}

test('tail waits for the file, joins partial lines, handles CRLF and strips ANSI', async () => {
	const dir = await tempDir();
	const file = path.join(dir, 'console.log');
	const lines: string[] = [];
	let stalls = 0;
	// A stall is reported from a poll: once it fires, the tail has polled the missing file and kept going.
	const tail = tailFile(file, {intervalMs: 30, stallMs: 60, onLines: batch => lines.push(...batch), onStall: () => stalls++});
	await waitFor('a poll of the missing file', () => stalls > 0);
	assert.deepEqual(lines, []);
	await fs.writeFile(file, 'booting\nLinux ver');
	await waitFor('the first whole line', () => lines.length > 0);
	// The partial line was read in the same poll as "booting" and held back.
	assert.deepEqual(lines, ['booting']);
	await fs.appendFile(file, 'sion 6.1\r\n\u001B[32mOK\u001B[0m boot\nlast');
	await waitFor('the joined line', () => lines.length >= 3);
	await fs.appendFile(file, ' line\n');
	await waitFor('the last line', () => lines.length >= 4);
	tail.stop();
	await tail.done;
	assert.deepEqual(lines, ['booting', 'Linux version 6.1', 'OK boot', 'last line']);
	await fs.rm(dir, {recursive: true, force: true});
});

test('a 10 MB flood stays bounded in the ring, arrives in order and in one batch per poll, not one call per line', async () => {
	const dir = await tempDir();
	const file = path.join(dir, 'console.log');
	const numbered = (from: number, count: number) => Array.from({length: count}, (_, i) => `line ${String(from + i).padStart(93, '0')}\n`).join('');
	// Already on disk when the tail starts: the first poll finds all of it.
	await fs.writeFile(file, numbered(0, 100_000));
	const ring = new RingBuffer<string>(500);
	let batches = 0;
	const tail = tailFile(file, {intervalMs: 100, onLines: batch => {
		batches++;
		for (const line of batch) ring.push(line);
	}});
	await waitFor('100,000 lines', () => ring.size + ring.dropped === 100_000, 20_000);
	assert.equal(batches, 1);
	assert.equal(ring.size, 500);
	assert.deepEqual(ring.tail(500), numbered(99_500, 500).trimEnd().split('\n'));
	// More arrives while it follows: every line once, the newest kept.
	for (let i = 1; i <= 10; i++) await fs.appendFile(file, numbered(i * 10_000 + 90_000, 10_000));
	await waitFor('200,000 lines', () => ring.size + ring.dropped === 200_000, 20_000);
	tail.stop();
	await tail.done;
	assert.equal(ring.size + ring.dropped, 200_000);
	assert.deepEqual(ring.tail(500), numbered(199_500, 500).trimEnd().split('\n'));
	assert.ok(batches < 200_000 / 1000, `${batches} batches for 200,000 lines`);
	await fs.rm(dir, {recursive: true, force: true});
});

test('stall callback fires once after silence, again after new silence, and the tail stops', async () => {
	const dir = await tempDir();
	const file = path.join(dir, 'console.log');
	await fs.writeFile(file, 'booting\n');
	const stalls: number[] = [];
	const lines: string[] = [];
	const tail = tailFile(file, {intervalMs: 30, stallMs: 200, onLines: batch => lines.push(...batch), onStall: ms => stalls.push(ms)});
	await waitFor('the first stall', () => stalls.length === 1);
	// The silence goes on for several more stall periods: it is still reported only once.
	await sleep(600);
	assert.equal(stalls.length, 1);
	await fs.appendFile(file, 'login:\n');
	await waitFor('the new line', () => lines.includes('login:'));
	await waitFor('a second stall after the new silence', () => stalls.length === 2);
	tail.stop();
	await tail.done;
	assert.deepEqual(lines, ['booting', 'login:']);
	assert.ok(stalls.every(ms => ms >= 200), String(stalls));
	await fs.rm(dir, {recursive: true, force: true});
});

test('printableLine removes control characters', () => {
	assert.equal(printableLine('a\u0007b\u001B[1;1Hc'), 'abc');
});
