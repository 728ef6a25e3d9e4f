// Issue 10, point 8. On main before this, `up` printed every node-wait event
// (formatEventLine for each): a 240 s SSH wait on 5 nodes, reported about 4
// times a second per node, printed 4,431 "waiting for ssh ..." lines.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {HEADLESS_WAIT_EVERY_MS, plainEventPrinter, type RunEvent} from '../../source/model/events.js';

const NODES = ['node01', 'node02', 'node03', 'node04', 'node05'];
const wait = (node: string, at: number, lastError = 'connect ECONNREFUSED 127.0.0.1:2241'): RunEvent => ({type: 'node-wait', node, waitingFor: 'ssh on 127.0.0.1:2241', lastError, elapsedMs: at, at});

test('a 240 s SSH wait on 5 nodes prints each node\'s wait once, then every 10 s', () => {
	const lines: string[] = [];
	const print = plainEventPrinter(line => lines.push(line));
	for (let at = 0; at < 240_000; at += 250) for (const node of NODES) print(wait(node, at));
	assert.equal(HEADLESS_WAIT_EVERY_MS, 10_000);
	// 0 s, 10 s, ... 230 s: 24 lines per node instead of 960.
	assert.equal(lines.length, NODES.length * 24);
	assert.equal(lines.filter(line => line.startsWith('node03: waiting for ssh on 127.0.0.1:2241: connect ECONNREFUSED')).length, 24);
	assert.match(lines[NODES.length]!, /^node01: waiting for ssh .*, 10s$/);
});

test('a changed reason prints at once; a node that moves on starts afresh; other events are all printed', () => {
	const lines: string[] = [];
	const print = plainEventPrinter(line => lines.push(line));
	print(wait('node01', 0));
	print(wait('node01', 250));
	print(wait('node01', 500, 'Timed out while waiting for handshake'));
	print(wait('node01', 750, 'Timed out while waiting for handshake'));
	assert.equal(lines.length, 2);
	assert.match(lines[1]!, /Timed out while waiting for handshake, 1s$/);
	print({type: 'node-phase', node: 'node01', phase: 'ssh-ready', at: 1000});
	print({type: 'node-wait', node: 'node01', waitingFor: 'ssh after the reboot on 127.0.0.1:2241', elapsedMs: 0, at: 1100});
	print({type: 'node-wait', node: 'node01', waitingFor: 'ssh after the reboot on 127.0.0.1:2241', elapsedMs: 100, at: 1200});
	for (let index = 0; index < 5; index++) print({type: 'console', node: 'node02', line: `line ${index}`, at: 1300 + index});
	assert.deepEqual(lines.slice(2), [
		'node01: ssh-ready',
		'node01: waiting for ssh after the reboot on 127.0.0.1:2241, 0s',
		'node02: | line 0',
		'node02: | line 1',
		'node02: | line 2',
		'node02: | line 3',
		'node02: | line 4',
	]);
});

test('skip leaves out what a command does not print (validate: waiting checks)', () => {
	const lines: string[] = [];
	const print = plainEventPrinter(line => lines.push(line), {skip: event => event.type === 'check' && event.status === 'waiting'});
	print({type: 'check', node: 'node01', check: 'ssh', status: 'waiting', detail: 'waiting for ssh', at: 0});
	print({type: 'check', node: 'node01', check: 'ssh', status: 'ok', detail: 'exit 0', at: 1});
	assert.deepEqual(lines, ['node01: check ssh: ok (exit 0)']);
});
