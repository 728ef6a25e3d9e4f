import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {formatReport, validateCluster} from '../../source/engine/validation.js';
import type {RunEvent} from '../../source/model/events.js';
import type {NodeSsh} from '../../source/services/ssh.js';
import {planIn, template, tempDir} from '../helpers.js';

// A stand-in connection: answers exec from a table, so the engine's polling,
// events and report can be tested without nodes.
function fakeSsh(answer: (command: string) => {code: number; stdout?: string; stderr?: string}): NodeSsh {
	return {
		closed: false,
		async exec(command: string) {
			const result = answer(command);
			return {code: result.code, stdout: result.stdout ?? '', stderr: result.stderr ?? ''};
		},
		close() {},
	} as unknown as NodeSsh;
}

test('validateCluster polls node checks, names the failing node and writes the report', async () => {
	const home = tempDir();
	process.env['PLASMA_TUI_HOME'] = home;
	const profile = template();
	profile.checks = [
		{type: 'ssh', timeoutSec: 2},
		{type: 'command', name: 'marker', command: 'cat /marker', expectExit: 0, expectOutput: '^ready', timeoutSec: 2},
	];
	const plan = planIn(home, profile);
	const [first, second, third] = plan.nodes;
	assert.ok(first && second && third);
	await fs.mkdir(path.dirname(third.runtime.consoleLog), {recursive: true});
	await fs.writeFile(third.runtime.consoleLog, 'boot\n\u001B[31metcd: panic: disk full\u001B[0m\n\n');
	let calls = 0;
	const connections = new Map<string, NodeSsh>([
		[first.name, fakeSsh(command => (command === 'true' ? {code: 0} : {code: 0, stdout: 'ready\n'}))],
		// Becomes ready on the third try: the engine must keep polling.
		[second.name, fakeSsh(command => (command === 'true' ? {code: 0} : ++calls < 3 ? {code: 1, stderr: 'no such file'} : {code: 0, stdout: 'ready'}))],
	]);
	const events: RunEvent[] = [];
	const report = await validateCluster(profile, plan, {connections, onEvent: event => events.push(event)});

	assert.equal(report.ok, false);
	const marker2 = report.results.find(r => r.check === 'marker' && r.node === second.name);
	assert.equal(marker2?.status, 'ok');
	assert.ok(calls >= 3);
	assert.ok(events.some(e => e.type === 'check' && e.node === second.name && e.status === 'waiting' && e.detail?.includes('no such file')));
	const unreachable = report.results.filter(r => r.node === third.name);
	assert.equal(unreachable.length, 2);
	assert.ok(unreachable.every(r => r.status === 'failed' && r.reason?.includes(third.name)));
	// The log line that explains the failure, without terminal escapes.
	assert.ok(unreachable.every(r => r.logLine === 'console: etcd: panic: disk full'));

	const json = JSON.parse(await fs.readFile(plan.report.json, 'utf8'));
	assert.equal(json.ok, false);
	assert.equal(json.results.length, 6);
	const text = await fs.readFile(plan.report.text, 'utf8');
	assert.equal(text, formatReport(report));
	assert.match(text, /FAILED/);
	assert.match(text, new RegExp(`\\[FAILED\\] ${third.name}`));
	assert.match(text, /last log line: console: etcd: panic: disk full/);
});

test('a check that never passes fails with its last error once its timeout runs out', async () => {
	const home = tempDir();
	process.env['PLASMA_TUI_HOME'] = home;
	const profile = template();
	profile.checks = [{type: 'command', name: 'marker', command: 'false', expectExit: 0, timeoutSec: 1}];
	const plan = planIn(home, profile);
	const connections = new Map<string, NodeSsh>(plan.nodes.map(node => [node.name, fakeSsh(() => ({code: 2, stderr: 'boom'}))]));
	const started = Date.now();
	const report = await validateCluster(profile, plan, {connections, onEvent: () => {}});
	assert.ok(Date.now() - started < 5000);
	assert.equal(report.ok, false);
	for (const result of report.results) assert.match(result.reason ?? '', /exited 2, expected 0: boom/);
});

test('a failed check with explainLog quotes the last line of that log on the node', async () => {
	const home = tempDir();
	process.env['PLASMA_TUI_HOME'] = home;
	const profile = template();
	profile.nodes = profile.nodes.slice(0, 1);
	profile.checks = [{type: 'command', name: 'etcd up', command: 'etcd-ok', expectExit: 0, timeoutSec: 1, explainLog: '/var/log/etcd.log'}];
	const plan = planIn(home, profile);
	const asked: string[] = [];
	const connections = new Map<string, NodeSsh>([
		[
			plan.nodes[0]!.name,
			fakeSsh(command => {
				asked.push(command);
				return command.startsWith('tail') ? {code: 0, stdout: 'starting\nembed: rejected connection: bad certificate\n'} : {code: 1, stderr: 'down'};
			}),
		],
	]);
	const report = await validateCluster(profile, plan, {connections, onEvent: () => undefined});
	assert.equal(report.results[0]?.logLine, '/var/log/etcd.log: embed: rejected connection: bad certificate');
	assert.ok(asked.includes("tail -n 5 '/var/log/etcd.log'"), 'the path is quoted for the remote shell');
});
