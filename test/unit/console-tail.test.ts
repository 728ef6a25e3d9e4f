import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {printableLine, tailFile} from '../../source/services/console-tail.js';
import {RingBuffer} from '../../source/model/ring-buffer.js';

async function tempDir(): Promise<string> {
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-tail-'));
	process.env.PLASMA_TUI_HOME = dir;
	return dir;
}

test('tail waits for the file, joins partial lines, handles CRLF and strips ANSI', async () => {
	const dir = await tempDir();
	const file = path.join(dir, 'console.log');
	const lines: string[] = [];
	const tail = tailFile(file, {intervalMs: 30, onLines: batch => lines.push(...batch)});
	await sleep(100);
	await fs.writeFile(file, 'Linux ver');
	await sleep(100);
	assert.deepEqual(lines, []);
	await fs.appendFile(file, 'sion 6.1\r\n\u001B[32mOK\u001B[0m boot\nlast');
	await sleep(150);
	await fs.appendFile(file, ' line\n');
	await sleep(150);
	tail.stop();
	await tail.done;
	assert.deepEqual(lines, ['Linux version 6.1', 'OK boot', 'last line']);
	await fs.rm(dir, {recursive: true, force: true});
});

test('a 10 MB flood stays bounded in the ring and arrives in few batches', async () => {
	const dir = await tempDir();
	const file = path.join(dir, 'console.log');
	await fs.writeFile(file, '');
	const ring = new RingBuffer<string>(500);
	let batches = 0;
	const start = Date.now();
	const tail = tailFile(file, {intervalMs: 100, onLines: batch => {
		batches++;
		for (const line of batch) ring.push(line);
	}});
	const chunk = 'x'.repeat(99) + '\n';
	for (let i = 0; i < 10; i++) {
		await fs.appendFile(file, chunk.repeat(10_000));
		await sleep(50);
	}
	await sleep(400);
	tail.stop();
	await tail.done;
	const seconds = (Date.now() - start) / 1000;
	assert.equal(ring.size + ring.dropped, 100_000);
	assert.equal(ring.size, 500);
	assert.ok(batches / seconds <= 10 + 1, `${batches} batches in ${seconds} s`);
	await fs.rm(dir, {recursive: true, force: true});
});

test('stall callback fires once after silence and the tail stops', async () => {
	const dir = await tempDir();
	const file = path.join(dir, 'console.log');
	await fs.writeFile(file, 'booting\n');
	const stalls: number[] = [];
	const tail = tailFile(file, {intervalMs: 30, stallMs: 200, onLines: () => {}, onStall: ms => stalls.push(ms)});
	await sleep(600);
	tail.stop();
	await tail.done;
	assert.equal(stalls.length, 1);
	assert.ok(stalls[0]! >= 200);
	await fs.rm(dir, {recursive: true, force: true});
});

test('printableLine removes control characters', () => {
	assert.equal(printableLine('a\u0007b\u001B[1;1Hc'), 'abc');
});
