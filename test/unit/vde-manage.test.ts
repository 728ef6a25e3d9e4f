import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {manage} from '../../source/services/vde-manage.js';
import {tempDir} from '../helpers.js';

// A management socket that talks like wirefilter 2.3.2: a banner ending in the
// prompt, then per command its output, a status line and the prompt again. The
// prompt may come in a write of its own, after the client has already seen the
// status line; that is what a loaded host does.

type Answer = {output?: string; status?: string; promptLagMs?: number};

async function withManagement(answers: Record<string, Answer>, run: (socket: string) => Promise<void>) {
	const dir = tempDir('plasma-mgmt-');
	const socketPath = path.join(dir, 'mgmt');
	const received: string[] = [];
	const server = net.createServer(conn => {
		conn.write('\nVDE wirefilter V.2.3.2\n(C) R.Davoli 2005,2006 - GPLv2\n\nVDEwf$ ');
		conn.on('error', () => undefined);
		// Answers go out in order: a command's prompt is written before the next command's status.
		let written = Promise.resolve();
		const write = (text: string, afterMs = 0) => {
			written = written.then(() => new Promise(resolve => setTimeout(() => conn.write(text, () => resolve()), afterMs)));
		};
		let pending = '';
		conn.on('data', chunk => {
			pending += chunk.toString();
			let newline;
			while ((newline = pending.indexOf('\n')) >= 0) {
				const command = pending.slice(0, newline);
				pending = pending.slice(newline + 1);
				received.push(command);
				const answer = answers[command] ?? {status: '1000 Success'};
				const output = answer.output ? `0000 DATA END WITH '.'\n${answer.output}\n.\n` : '';
				write(`${output}${answer.status ?? '1000 Success'}\n`);
				write('\nVDEwf$ ', answer.promptLagMs ?? 0);
			}
		});
	});
	await new Promise<void>(resolve => server.listen(socketPath, resolve));
	try {
		await run(socketPath);
	} finally {
		server.close();
		fs.rmSync(dir, {recursive: true, force: true});
	}
	return received;
}

test('manage waits for the prompt after each status: a late prompt neither hides the next status nor leaks into its output', async () => {
	const received = await withManagement({
		'delay LR 0': {promptLagMs: 30},
		'loss LR 0': {promptLagMs: 30},
		showinfo: {output: 'Delay   L->R 0+0U   R->L 0+0U'},
	}, async socket => {
		const answers = await manage(socket, ['delay LR 0', 'loss LR 0', 'showinfo'], 2000);
		assert.deepEqual(answers, [
			{command: 'delay LR 0', output: ''},
			{command: 'loss LR 0', output: ''},
			{command: 'showinfo', output: 'Delay   L->R 0+0U   R->L 0+0U'},
		]);
	});
	assert.deepEqual(received, ['delay LR 0', 'loss LR 0', 'showinfo']);
});

test('manage stops at the first failed command, naming it and the reason, and sends nothing after it', async () => {
	const received = await withManagement({'port/setvlan 9 101': {status: '1004 Invalid argument'}}, async socket => {
		await assert.rejects(manage(socket, ['vlan/create 101', 'port/setvlan 9 101', 'port/print'], 2000), /"port\/setvlan 9 101" failed: 1004 Invalid argument/);
	});
	assert.deepEqual(received, ['vlan/create 101', 'port/setvlan 9 101']);
});

test('manage names the command it waited for when no status comes', async () => {
	const dir = tempDir('plasma-mgmt-');
	const socketPath = path.join(dir, 'mgmt');
	const server = net.createServer(conn => conn.write('\nVDEwf$ '));
	await new Promise<void>(resolve => server.listen(socketPath, resolve));
	try {
		await assert.rejects(manage(socketPath, ['showinfo'], 300), /no answer to "showinfo" within 300 ms/);
	} finally {
		server.close();
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
