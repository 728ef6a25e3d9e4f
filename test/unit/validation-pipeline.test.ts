import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {formatReport, validateCluster, type Arrival} from '../../source/engine/validation.js';
import type {RunEvent} from '../../source/model/events.js';
import type {NodeSsh} from '../../source/services/ssh.js';
import {planIn, template, tempDir} from '../helpers.js';

// up's validate stage with nodes that arrive one by one: a node's own checks
// start when it arrives, a quorum check with a majority, l2-mesh with everyone.

// A node that answers exec (true; l2-mesh's pings reach every address asked) and etcd's JSON
// gateway from one shared key store.
function fakeNode(store: Map<string, string>): NodeSsh {
	const json = (body: unknown) => ({status: 200, headers: {}, body: JSON.stringify(body)});
	return {
		closed: false,
		async exec(command: string) {
			const pinged = command.includes('ping') ? [...command.matchAll(/'(\d+\.\d+\.\d+\.\d+)'/g)].map(m => `reached ${m[1]}\n`) : [];
			return {code: 0, stdout: pinged.join(''), stderr: ''};
		},
		async httpsRequest({path: api, body}: {path: string; body?: string}) {
			const request = JSON.parse(body ?? '{}') as {key?: string; value?: string};
			if (api === '/v3/kv/put') store.set(request.key!, request.value!);
			if (api === '/v3/kv/range') return json({kvs: store.has(request.key!) ? [{value: store.get(request.key!)}] : []});
			if (api === '/v3/kv/deleterange') return json({deleted: store.delete(request.key!) ? '1' : '0'});
			return json({});
		},
		close() {},
	} as unknown as NodeSsh;
}

function later<T>(): {promise: Promise<T>; resolve: (value: T) => void} {
	let resolve: (value: T) => void = () => undefined;
	const promise = new Promise<T>(done => (resolve = done));
	return {promise, resolve};
}

async function until(what: string, predicate: () => boolean, timeoutMs = 5000) {
	const started = Date.now();
	while (!predicate()) {
		if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
		await sleep(10);
	}
}

// A plan whose nodes have certificate files (the etcd checks read them before they ask).
async function planWithSecrets(home: string, profile: ReturnType<typeof template>) {
	const plan = planIn(home, profile);
	for (const node of plan.nodes) {
		for (const file of [node.secrets.ca, node.secrets.cert, node.secrets.key]) {
			await fs.mkdir(path.dirname(file), {recursive: true});
			await fs.writeFile(file, 'pem');
		}
	}
	return plan;
}

test('checks start as their nodes arrive: own checks at once, crud with a quorum, l2-mesh with everyone; wall time next to the sum', async () => {
	const home = tempDir();
	const profile = template();
	profile.checks = [
		{type: 'ssh', timeoutSec: 5},
		{type: 'l2-mesh', timeoutSec: 5},
		{type: 'crud', port: 2379, timeoutSec: 5},
	];
	const plan = await planWithSecrets(home, profile);
	const [n1, n2, n3] = plan.nodes;
	assert.ok(n1 && n2 && n3 && n3.role === 'control-plane');
	const store = new Map<string, string>();
	const second = later<Arrival>();
	const third = later<Arrival>();
	const arrivals = new Map<string, Promise<Arrival>>([
		[n1.name, Promise.resolve({ssh: fakeNode(store)})],
		[n2.name, second.promise],
		[n3.name, third.promise],
	]);
	const events: RunEvent[] = [];
	const seen = (node: string | undefined, check: string, status: string, detail?: RegExp) =>
		events.some(e => e.type === 'check' && e.node === node && e.check === check && e.status === status && (!detail || detail.test(e.detail ?? '')));
	const validating = validateCluster(profile, plan, {arrivals, onEvent: event => events.push(event)});

	await until('ssh ok on the first node', () => seen(n1.name, 'ssh', 'ok'));
	assert.ok(seen(undefined, 'crud :2379', 'waiting', new RegExp(`starts once ${n2.name}, ${n3.name} are installed`)), 'crud says which members it waits for');
	assert.ok(seen(n1.name, 'l2-mesh', 'waiting', /starts once/));
	assert.ok(!seen(undefined, 'crud :2379', 'ok'), 'one member of three is no quorum');

	second.resolve({ssh: fakeNode(store)});
	await until('crud ok with two of three members', () => seen(undefined, 'crud :2379', 'ok'));
	assert.ok(!seen(n1.name, 'l2-mesh', 'ok'), 'l2-mesh waits for the third node');
	assert.ok(seen(n1.name, 'l2-mesh', 'waiting', new RegExp(`starts once ${n3.name} is installed`)));

	third.resolve({notRun: `${n3.name} did not finish: install failed`});
	const report = await validating;
	assert.equal(report.results.find(r => r.check === 'l2-mesh' && r.node === n1.name)?.status, 'ok');
	assert.deepEqual(
		report.results.filter(r => r.node === n3.name).map(r => r.status),
		['not-run', 'not-run'],
	);
	// Profile order in the report, whatever the order they finished in.
	assert.deepEqual(report.results.map(r => `${r.check}@${r.node ?? 'cluster'}`), [
		`ssh@${n1.name}`, `ssh@${n2.name}`, `ssh@${n3.name}`,
		`l2-mesh@${n1.name}`, `l2-mesh@${n2.name}`, `l2-mesh@${n3.name}`,
		'crud :2379@cluster',
	]);
	assert.ok(report.wallMs !== undefined && report.checkMs !== undefined);
	assert.equal(report.checkMs, report.results.reduce((sum, r) => sum + r.durationMs, 0));
	assert.match(formatReport(report), /^took \d+\.\d s wall for \d+\.\d s of checks$/m);
	const json = JSON.parse(await fs.readFile(plan.report.json, 'utf8')) as {wallMs: number; checkMs: number};
	assert.equal(json.wallMs, report.wallMs);
	await fs.rm(home, {recursive: true, force: true});
});

test('a check that changes a node runs alone: after every check before it, before any after it', async () => {
	const home = tempDir();
	const profile = template();
	profile.checks = [
		{type: 'command', name: 'before', command: 'before', expectExit: 0, timeoutSec: 5},
		{type: 'persistence', port: 2379, restartCommand: 'restart', timeoutSec: 5},
		{type: 'command', name: 'after', command: 'after', expectExit: 0, timeoutSec: 5},
	];
	const plan = await planWithSecrets(home, profile);
	const store = new Map<string, string>();
	const order: string[] = [];
	const node = (name: string): NodeSsh => {
		const base = fakeNode(store);
		return {
			...base,
			closed: false,
			async exec(command: string) {
				order.push(`${command}@${name}`);
				// The first node's "before" is slow: the restart must still wait for it.
				if (command === 'before' && name === plan.nodes[0]!.name) await sleep(200);
				return {code: 0, stdout: '', stderr: ''};
			},
			httpsRequest: base.httpsRequest.bind(base),
		} as unknown as NodeSsh;
	};
	const connections = new Map(plan.nodes.map(n => [n.name, node(n.name)]));
	const report = await validateCluster(profile, plan, {connections, onEvent: () => undefined});
	assert.equal(report.ok, true, formatReport(report));
	const restart = order.findIndex(entry => entry.startsWith('restart@'));
	assert.ok(restart > 0);
	assert.ok(order.slice(0, restart).filter(e => e.startsWith('before@')).length === plan.nodes.length, order.join(' '));
	assert.ok(order.slice(restart).every(e => !e.startsWith('before@')), order.join(' '));
	assert.ok(order.slice(0, restart).every(e => !e.startsWith('after@')), order.join(' '));
	await fs.rm(home, {recursive: true, force: true});
});

test('a node check written after a cluster check starts once that one has finished (etcd health after raft-quorum)', async () => {
	const home = tempDir();
	const profile = template();
	profile.checks = [
		{type: 'command', name: 'first', command: 'first', expectExit: 0, timeoutSec: 5},
		{type: 'crud', port: 2379, timeoutSec: 5},
		{type: 'command', name: 'health', command: 'health', expectExit: 0, timeoutSec: 5},
	];
	const plan = await planWithSecrets(home, profile);
	const store = new Map<string, string>();
	const order: string[] = [];
	const connections = new Map(
		plan.nodes.map(n => {
			const base = fakeNode(store);
			const session = {
				closed: false,
				async exec(command: string) {
					order.push(`${command}@${n.name}`);
					return {code: 0, stdout: '', stderr: ''};
				},
				async httpsRequest(request: {path: string; body?: string}) {
					if (request.path === '/v3/kv/put') order.push(`crud@${n.name}`);
					return (base as unknown as {httpsRequest: (r: unknown) => Promise<unknown>}).httpsRequest(request);
				},
				close() {},
			};
			return [n.name, session as unknown as NodeSsh];
		}),
	);
	const events: RunEvent[] = [];
	const report = await validateCluster(profile, plan, {connections, onEvent: event => events.push(event)});
	assert.equal(report.ok, true, formatReport(report));
	const crud = order.indexOf(order.find(e => e.startsWith('crud@'))!);
	assert.ok(crud >= 0, order.join(' '));
	assert.ok(order.slice(0, crud).every(e => !e.startsWith('health@')), order.join(' '));
	assert.ok(order.slice(crud).every(e => !e.startsWith('first@')), 'a check before the cluster one does not wait for it');
	assert.ok(events.some(e => e.type === 'check' && e.check === 'health' && e.detail === 'waiting for health: starts after crud :2379'));
	await fs.rm(home, {recursive: true, force: true});
});

// raft-quorum needs every member, crud a quorum: crud does not wait behind raft-quorum for the last node.
test('cluster checks that change nothing run side by side: crud ends with two members while raft-quorum still waits for the third', async () => {
	const home = tempDir();
	const profile = template();
	profile.checks = [
		{type: 'raft-quorum', port: 2379, timeoutSec: 5},
		{type: 'crud', port: 2379, timeoutSec: 5},
	];
	const plan = await planWithSecrets(home, profile);
	const [n1, n2, n3] = plan.nodes;
	assert.ok(n1 && n2 && n3 && n3.role === 'control-plane');
	const store = new Map<string, string>();
	const third = later<Arrival>();
	const arrivals = new Map<string, Promise<Arrival>>([
		[n1.name, Promise.resolve({ssh: fakeNode(store)})],
		[n2.name, Promise.resolve({ssh: fakeNode(store)})],
		[n3.name, third.promise],
	]);
	const events: RunEvent[] = [];
	const seen = (check: string, status: string, detail?: RegExp) => events.some(e => e.type === 'check' && e.node === undefined && e.check === check && e.status === status && (!detail || detail.test(e.detail ?? '')));
	const validating = validateCluster(profile, plan, {arrivals, onEvent: event => events.push(event)});
	await until('crud ok with two of three members', () => seen('crud :2379', 'ok'));
	assert.ok(seen('raft-quorum :2379', 'waiting', new RegExp(`starts once ${n3.name} is installed`)), 'raft-quorum waits for the third');
	third.resolve({notRun: `${n3.name} did not finish: install failed`});
	const report = await validating;
	assert.deepEqual(report.results.map(r => r.check), ['raft-quorum :2379', 'crud :2379'], 'the report keeps the profile order');
	await fs.rm(home, {recursive: true, force: true});
});

// One command check on every node, each node's exec answered by `exec`: the first node's result.
async function commandCheckWith(timeoutSec: number, exec: () => Promise<{code: number; stdout: string; stderr: string}>) {
	const home = tempDir();
	const profile = template();
	profile.checks = [{type: 'command', name: 'probe', command: 'probe', expectExit: 0, timeoutSec}];
	const plan = await planWithSecrets(home, profile);
	const node = (): NodeSsh => ({...fakeNode(new Map()), closed: false, exec}) as unknown as NodeSsh;
	const report = await validateCluster(profile, plan, {connections: new Map(plan.nodes.map(n => [n.name, node()])), onEvent: () => undefined});
	await fs.rm(home, {recursive: true, force: true});
	return report.results.find(r => r.node === plan.nodes[0]!.name)!;
}

test("an attempt cut short by the check's deadline keeps the earlier attempts' reason, not \"no answer\"", async () => {
	// Seen in CI: raft-quorum with 2 of 3 members stopped answered "no quorum" on every attempt, but the
	// last one started just before the deadline and was cut: the report said "no answer within 10 s".
	const started = Date.now();
	const result = await commandCheckWith(2, async () => {
		// Answers at once for a while; the attempt that starts after 1.2 s hangs past the deadline.
		if (Date.now() - started > 1200) await sleep(5000);
		return {code: 1, stdout: '', stderr: 'no quorum: 1 of 3 members answer'};
	});
	assert.equal(result.status, 'failed');
	assert.match(result.reason ?? '', /no quorum: 1 of 3 members answer/);
	assert.doesNotMatch(result.reason ?? '', /no answer within/);
});

test('an attempt that never answers is reported as such, within the check deadline', async () => {
	const started = Date.now();
	const result = await commandCheckWith(1, () => new Promise(() => undefined));
	assert.ok(Date.now() - started < 4000);
	assert.match(result.reason ?? '', /no answer within 1 s/);
});
