import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {bindNames, parseScenario} from '../../source/model/scenario.js';
import {formatRehearsal} from '../../source/model/rehearsal-report.js';

const nodes = ['node01', 'node02', 'node03'];
const root = path.resolve(import.meta.dirname, '..', '..');
const errorsOf = (value: unknown) => {
	const parsed = parseScenario(value, nodes);
	return parsed.ok ? [] : parsed.errors.map(e => `${e.field}: ${e.message}`);
};

test('the shipped scenarios parse, and package.json ships them', () => {
	for (const name of ['leader-loss', 'minority-partition']) {
		const parsed = parseScenario(JSON.parse(fs.readFileSync(path.join(root, 'scenarios', `${name}.json`), 'utf8')), nodes);
		assert.equal(parsed.ok, true, JSON.stringify(parsed));
	}
	assert.ok((JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {files: string[]}).files.includes('scenarios'));
});

test('a scenario is strict: unknown keys, two things in one step, names never bound, bad fault words', () => {
	const steps = (...list: unknown[]) => ({version: 1, name: 'x', steps: list});
	assert.deepEqual(errorsOf(steps({wait: 1, fault: 'heal'})), ['steps[0]: has fault and wait: one step does one thing']);
	assert.deepEqual(errorsOf(steps({sleep: 1})), ['steps[0]: is not a step']);
	assert.match(errorsOf(steps({expect: {check: 'crud', status: 'ok', within: 5, wihtin: 3}})).join(), /steps\[0\]\.expect: unknown key "wihtin"/);
	assert.deepEqual(errorsOf(steps({fault: 'kill {leader}'})), ['steps[0].fault: {leader} is not bound by an earlier find step']);
	assert.deepEqual(errorsOf(steps({find: {leader: 'leader'}}, {fault: 'kill {leader}'})), []);
	assert.match(errorsOf(steps({fault: 'explode node01'})).join(), /unknown action "explode"/);
	assert.match(errorsOf({version: 1, name: 'Bad Name', steps: [{wait: 1}]}).join(), /^name: lower-case letters/);
	assert.match(errorsOf(steps({run: 'true', on: 'node01', output: '('})).join(), /steps\[0\]\.output: is not a regular expression/);
});

test('bound names are filled; install variables are left for the node', () => {
	assert.equal(bindNames('kill {leader} --cacert {ca}', {leader: 'node02'}), 'kill node02 --cacert {ca}');
});

test('the report reads like validation: a mark, the step, its time and what it found', () => {
	const text = formatRehearsal({scenario: 'leader-loss', profile: 'demo', ok: false, startedAt: 'a', finishedAt: 'b', leftActive: 1, steps: [
		{index: 0, kind: 'fault', what: 'fault kill node02', status: 'ok', detail: 'node02: killed', durationMs: 1200},
		{index: 1, kind: 'expect', what: 'expect raft-quorum ok within 30 s', status: 'failed', detail: 'within 30 s: no quorum', durationMs: 30_000},
		{index: 2, kind: 'wait', what: 'wait 1 s', status: 'not-run', detail: 'an earlier step did not hold', durationMs: 0},
	]});
	assert.match(text, /^plasma-tui rehearsal leader-loss of demo: FAILED \(1 failed, 1 not run, 1 ok\)/);
	assert.match(text, /\[ok\] +1 fault kill node02 \(1\.2 s\): node02: killed/);
	assert.match(text, /\[FAILED\]  2 expect raft-quorum ok within 30 s \(30\.0 s\): within 30 s: no quorum/);
	assert.match(text, /1 fault\(s\) still active/);
});
