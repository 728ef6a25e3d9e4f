import {test} from 'node:test';
import assert from 'node:assert/strict';
import {planDigest, rerunVerdict, type RerunFacts} from '../../source/model/rerun.js';
import {withAccel} from '../../source/model/plan.js';
import {planIn, template} from '../helpers.js';

// When `up` on a running cluster may skip to validation, and the reason it says when it may not.

const nodes = [{name: 'n1'}, {name: 'n2'}];
const startedAt = '2026-12-02T01:00:00.000Z';
const upAndValidated = (): RerunFacts => ({
	nodes,
	digest: 'abc',
	state: {lifecycle: {cluster: 'running', stoppedNodes: []}, faults: [], nodes: {n1: {phase: 'healthy'}, n2: {phase: 'healthy'}}},
	processes: [
		{kind: 'vde', pid: 10, status: 'running', startedAt, alive: true},
		{kind: 'qemu', node: 'n1', pid: 11, status: 'running', startedAt, alive: true},
		{kind: 'qemu', node: 'n2', pid: 12, status: 'running', startedAt, alive: true},
		{kind: 'image-build', pid: 9, status: 'stopped', startedAt, alive: false},
	],
	report: {ok: true, planDigest: 'abc', finishedAt: '2026-12-02T01:01:00.000Z'},
});

test('a cluster that is up, unchanged and validated green is validated again, with the reason spelled out', () => {
	const verdict = rerunVerdict(upAndValidated());
	assert.equal(verdict.rerun, true);
	assert.match(verdict.why ?? '', /state file says running, 3 processes alive, plan unchanged, last validation green at 2026-12-02T01:01:00.000Z/);
});

test('nothing running: a plain first up, nothing to say', () => {
	assert.deepEqual(rerunVerdict({...upAndValidated(), state: undefined, processes: []}), {rerun: false});
	const facts = upAndValidated();
	assert.deepEqual(rerunVerdict({...facts, processes: facts.processes.map(p => ({...p, alive: false}))}), {rerun: false});
});

test('every reason to boot as usual is named', () => {
	const cases: Array<[string, (facts: RerunFacts) => void, RegExp]> = [
		['a dead QEMU', f => (f.processes[2]!.alive = false), /n2's qemu \(pid 12\) no longer running/],
		['a node without a QEMU', f => (f.processes = f.processes.filter(p => p.node !== 'n2')), /n2 not running/],
		['a stopped cluster', f => (f.state!.lifecycle!.cluster = 'stopped'), /the cluster is stopped/],
		['a node stopped on purpose', f => (f.state!.lifecycle!.stoppedNodes = ['n1']), /n1 stopped on purpose/],
		['an active fault', f => (f.state!.faults = [{}]), /1 fault\(s\) active/],
		['a node not healthy', f => (f.state!.nodes['n1'] = {phase: 'failed'}), /n1 is failed/],
		['no report', f => (f.report = undefined), /no validation report/],
		['a red report', f => (f.report!.ok = false), /the last validation failed/],
		['another plan', f => (f.digest = 'def'), /the plan changed since the last validation/],
		['a report without its plan', f => (f.report!.planDigest = undefined), /did not record its plan/],
		['a node booted after the report', f => (f.processes[1]!.startedAt = '2026-12-02T01:02:00.000Z'), /a node started again after the last validation/],
	];
	for (const [what, edit, why] of cases) {
		const facts = upAndValidated();
		edit(facts);
		const verdict = rerunVerdict(facts);
		assert.equal(verdict.rerun, false, what);
		assert.match(verdict.why ?? '', why, what);
	}
});

test('the plan digest ignores the accelerator preflight picks and follows every other change', () => {
	const plan = planIn('/tmp/plasma-digest');
	assert.equal(planDigest(plan), planDigest(withAccel(plan, 'kvm')));
	assert.equal(planDigest(plan), planDigest(planIn('/tmp/plasma-digest')));
	const other = template();
	other.nodes[0]!.memoryMiB = 640;
	assert.notEqual(planDigest(planIn('/tmp/plasma-digest', other)), planDigest(plan));
});
