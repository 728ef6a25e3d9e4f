import {test} from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import {ConsoleInput} from '../../source/services/console-input.js';
import {tempDir} from '../helpers.js';

// A stand-in for QEMU's console chardev: a unix socket server that records what arrives and echoes it.
async function fakeConsole(file: string) {
	const received: string[] = [];
	let connections = 0;
	const server = net.createServer(socket => {
		connections++;
		// The client closing while an echo is in flight resets the socket: that is the test ending, not a failure.
		socket.on('error', () => undefined);
		socket.on('data', data => {
			received.push(data.toString('utf8'));
			socket.write(data);
		});
	});
	await new Promise<void>(resolve => server.listen(file, resolve));
	return {received, connections: () => connections, close: () => new Promise<void>(resolve => server.close(() => resolve()))};
}

async function until(check: () => boolean, what: string) {
	const started = Date.now();
	while (!check()) {
		if (Date.now() - started > 2000) throw new Error(`timed out waiting for ${what}`);
		await new Promise(resolve => setTimeout(resolve, 10));
	}
}

test('keystrokes reach the node\'s console socket over one connection', async () => {
	const dir = tempDir('plasma-console-');
	const node01 = await fakeConsole(path.join(dir, 'node01.console'));
	const node02 = await fakeConsole(path.join(dir, 'node02.console'));
	const input = new ConsoleInput({sockets: {node01: path.join(dir, 'node01.console'), node02: path.join(dir, 'node02.console')}});
	for (const key of ['l', 's', '\r']) input.send('node01', key);
	input.send('node02', 'hostname\r');
	await until(() => node01.received.join('') === 'ls\r' && node02.received.join('') === 'hostname\r', 'the keys');
	assert.equal(node01.connections(), 1);
	input.close();
	await node01.close();
	await node02.close();
});

test('a node without a socket, or a socket nobody listens on, is reported, not thrown', async () => {
	const dir = tempDir('plasma-console-');
	const errors: string[] = [];
	const input = new ConsoleInput({sockets: {node01: path.join(dir, 'missing.console')}, onError: (node, message) => errors.push(`${node}: ${message}`)});
	input.send('node09', 'x');
	input.send('node01', 'x');
	await until(() => errors.length === 2, 'two errors');
	assert.equal(errors[0], 'node09: no console socket planned for node09');
	assert.match(errors[1]!, /^node01: console .*missing\.console: connect ENOENT/);
	input.close();
});
