import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {QmpClient} from '../../source/services/qmp.js';
import {hostTools, skipUnless, tempDir} from '../helpers.js';

async function waitForSocket(file: string, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!fs.existsSync(file)) {
		if (Date.now() > deadline) throw new Error(`no socket ${file}`);
		await new Promise(resolve => setTimeout(resolve, 50));
	}
}

// A fake QMP server: greeting, then whatever the test scripts for each command.
function fakeServer(file: string, answer: (command: {execute: string; id?: string}, socket: net.Socket) => void, greeting = true): net.Server {
	const server = net.createServer(socket => {
		if (greeting) socket.write(`${JSON.stringify({QMP: {version: {}, capabilities: []}})}\n`);
		let buffer = '';
		socket.on('data', chunk => {
			buffer += chunk.toString();
			let newline: number;
			while ((newline = buffer.indexOf('\n')) >= 0) {
				const line = buffer.slice(0, newline);
				buffer = buffer.slice(newline + 1);
				const command = JSON.parse(line) as {execute: string; id?: string};
				if (command.execute === 'qmp_capabilities') socket.write(`${JSON.stringify({return: {}, id: command.id})}\n`);
				else answer(command, socket);
			}
		});
	});
	server.listen(file);
	return server;
}

const skip = skipUnless(await hostTools({'qemu-system-x86_64': 'qemu-system-x86'}));

test('QMP against a real QEMU: query-status, events, errors, quit', {timeout: 60_000, skip}, async () => {
	const dir = tempDir('plasma-qmp-');
	const socket = path.join(dir, 'qmp.sock');
	const qemu = spawn('qemu-system-x86_64', ['-S', '-display', 'none', '-nodefaults', '-accel', 'tcg', '-qmp', `unix:${socket},server=on,wait=off`], {stdio: 'ignore'});
	const exited = new Promise<number | null>(resolve => qemu.once('exit', code => resolve(code)));
	try {
		await waitForSocket(socket, 20_000);
		const qmp = await QmpClient.connect(socket, 10_000);
		assert.deepEqual(await qmp.execute('query-status', undefined, 10_000), {status: 'prelaunch', singlestep: false, running: false});
		await assert.rejects(qmp.execute('no-such-command'), /CommandNotFound/);
		const resumed = qmp.waitForEvent('RESUME', 10_000);
		await qmp.execute('cont', undefined, 10_000);
		assert.equal((await resumed).event, 'RESUME');
		const shutdown = qmp.waitForEvent('SHUTDOWN', 10_000);
		await qmp.execute('quit', undefined, 10_000);
		assert.equal((await shutdown).event, 'SHUTDOWN');
		assert.equal(await exited, 0);
		// Whether the client has seen the close yet is a race with QEMU's exit: either way the command fails, named.
		await assert.rejects(qmp.execute('query-status'), /cannot run query-status|connection closed while waiting for query-status/);
		qmp.close();
	} finally {
		qemu.kill('SIGKILL');
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('a late reply never answers the next command; events between replies are delivered', async () => {
	const dir = tempDir('plasma-qmp-');
	const file = path.join(dir, 'qmp.sock');
	const server = fakeServer(file, (command, socket) => {
		if (command.execute === 'slow') setTimeout(() => socket.write(`${JSON.stringify({return: 'late', id: command.id})}\n`), 300);
		else {
			socket.write(`${JSON.stringify({event: 'STOP', data: {}})}\n{not json}\n`);
			socket.write(`${JSON.stringify({return: command.execute, id: command.id})}\n`);
		}
	});
	try {
		const qmp = await QmpClient.connect(file, 2000);
		const events: string[] = [];
		qmp.onEvent(event => events.push(event.event));
		await assert.rejects(qmp.execute('slow', undefined, 100), /no answer to slow within 100 ms/);
		await new Promise(resolve => setTimeout(resolve, 400));
		assert.equal(await qmp.execute('fast'), 'fast');
		assert.deepEqual(events, ['STOP']);
		qmp.close();
	} finally {
		server.close();
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('no greeting and a server that hangs up are errors with a reason, not hangs', async () => {
	const dir = tempDir('plasma-qmp-');
	const silent = fakeServer(path.join(dir, 'silent.sock'), () => undefined, false);
	const hangup = fakeServer(path.join(dir, 'hangup.sock'), (_command, socket) => socket.destroy());
	try {
		await assert.rejects(QmpClient.connect(path.join(dir, 'silent.sock'), 300), /no greeting within 300 ms/);
		const qmp = await QmpClient.connect(path.join(dir, 'hangup.sock'), 2000);
		await assert.rejects(qmp.execute('system_powerdown', undefined, 2000), /connection closed while waiting for system_powerdown/);
		await assert.rejects(QmpClient.connect(path.join(dir, 'missing.sock'), 500), /ENOENT/);
	} finally {
		silent.close();
		hangup.close();
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
