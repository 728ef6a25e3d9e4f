import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {liveEntries, readState, StateStore, type ProcessEntry} from '../../source/services/state.js';
import {findByIdentity, isOurProcess, stopProcess} from '../../source/services/processes.js';
import {tempDir} from '../helpers.js';

function entry(patch: Partial<ProcessEntry>): ProcessEntry {
	return {kind: 'qemu', node: 'node01', pidfile: '/nonexistent/qemu.pid', argv: ['sleep'], exe: ['sleep'], match: ['tag'], sockets: [], ports: [], startedAt: new Date().toISOString(), status: 'running', ...patch};
}

test('the state file is written 0600 before the process starts, then updated with its pid', async () => {
	const dir = tempDir('plasma-state-');
	try {
		const file = path.join(dir, 'work', 'state.json');
		const store = await StateStore.open(file, 'demo', path.join(dir, 'work'));
		await store.recordProcess(entry({status: 'starting', ports: [2241], sockets: ['/x/qmp.sock']}));
		const before = await readState(file);
		assert.equal(before?.processes[0]?.status, 'starting');
		assert.equal(before?.processes[0]?.pid, undefined);
		assert.equal(fs.statSync(file).mode & 0o777, 0o600);
		await store.setProcess('qemu', 'node01', {pid: 4242, status: 'running'});
		const after = await readState(file);
		assert.equal(after?.processes[0]?.pid, 4242);
		assert.deepEqual(after?.processes[0]?.ports, [2241]);
		// No temp file is left beside it (atomic rename); the work directory carries the tool's marker.
		assert.deepEqual(fs.readdirSync(path.dirname(file)), ['.plasma-tui-owned', 'state.json']);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('parallel updates from several nodes all land', async () => {
	const dir = tempDir('plasma-state-');
	try {
		const file = path.join(dir, 'state.json');
		const store = await StateStore.open(file, 'demo', dir);
		await Promise.all(['node01', 'node02', 'node03', 'node04'].map(node => store.setNode(node, 'booting')));
		const state = await readState(file);
		assert.deepEqual(Object.keys(state?.nodes ?? {}).sort(), ['node01', 'node02', 'node03', 'node04']);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('a PID counts as live only while its argv and exe are the recorded ones; dead entries are dropped on the next open', async () => {
	const dir = tempDir('plasma-state-');
	const tag = path.join(dir, 'marker-argument');
	const sleep31 = {exe: ['sleep'], args: ['31']};
	const ours = spawn('sleep', ['31'], {stdio: 'ignore', detached: true});
	const stranger = spawn('sleep', ['30'], {stdio: 'ignore'});
	try {
		await new Promise(resolve => setTimeout(resolve, 200));
		const file = path.join(dir, 'state.json');
		fs.writeFileSync(
			file,
			JSON.stringify({
				version: 1,
				profile: 'demo',
				workDir: dir,
				nodes: {},
				updatedAt: '',
				processes: [
					entry({node: 'node01', pid: ours.pid, match: ['31']}),
					// A PID that was reused by a process that is not ours.
					entry({node: 'node02', pid: stranger.pid, match: [tag]}),
					entry({node: 'node03', pid: 999_999_999, match: [tag]}),
					entry({node: 'node04', match: [tag], status: 'starting'}),
				],
			}),
		);
		const live = await liveEntries(await readState(file));
		assert.deepEqual(
			live.map(e => e.node),
			['node01'],
		);
		assert.equal(await isOurProcess(stranger.pid, {exe: ['sleep'], args: [tag]}), false);
		const store = await StateStore.open(file, 'demo', dir);
		assert.deepEqual(store.current.processes.map(e => e.node), ['node01']);
		assert.deepEqual((await readState(file))?.processes.map(e => e.node), ['node01']);
		// The orphan scan finds the process by its argv and exe, and a stop reaches it.
		assert.ok((await findByIdentity(sleep31)).some(p => p.pid === ours.pid));
		assert.equal(await stopProcess(ours.pid!, sleep31, 1000), 'terminated');
		assert.equal(await isOurProcess(ours.pid, sleep31), false);
		assert.equal(await stopProcess(stranger.pid!, {exe: ['sleep'], args: [tag]}, 100), 'gone');
		assert.equal(stranger.exitCode, null, 'a process without the recorded argv is never signalled');
	} finally {
		ours.kill('SIGKILL');
		stranger.kill('SIGKILL');
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('a state file that is not JSON is reported with its path and left alone', async () => {
	const dir = tempDir('plasma-state-');
	try {
		const file = path.join(dir, 'state.json');
		fs.writeFileSync(file, '{half');
		await assert.rejects(readState(file), new RegExp(`state file ${file} is not valid JSON`));
		assert.equal(fs.readFileSync(file, 'utf8'), '{half');
		assert.equal(await readState(path.join(dir, 'missing.json')), undefined);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
