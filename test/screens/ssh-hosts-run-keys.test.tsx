import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {render, cleanup} from 'ink-testing-library';
import {RunApp} from '../../source/run-app.js';
import type {NodePowerAction} from '../../source/model/node-power.js';
import {onSshHosts} from '../../source/model/ssh-hosts-profile.js';
import type {SnapshotServices} from '../../source/hooks/snapshot-services.js';
import {template} from '../helpers.js';
import {recordedEvents} from '../fixtures/run-events.js';
import {fakeRun} from './fake-run.js';
import {KEYS, press, waitForFrame} from './ink-helpers.js';

afterEach(() => cleanup());

// A finished run on existing machines (target ssh-hosts): node power and snapshots are not offered, whatever the services could do.
function mountOnMachines() {
	const vm = template();
	const profile = onSshHosts(vm, Object.fromEntries(vm.nodes.map((n, i) => [n.name, {host: `10.9.0.${i + 1}`, port: 22}])));
	const run = fakeRun(recordedEvents('run-demo-ok'), {outcome: {exitCode: 0}});
	const calls: string[] = [];
	run.services.nodePowerGuard = async (_profile, node, action) => {
		calls.push(`guard ${action} ${node}`);
		return {message: `${action} ${node}`, losesQuorum: false};
	};
	run.services.powerNode = async (_profile, node, action: NodePowerAction) => {
		calls.push(`${action} ${node}`);
		return 'was not running';
	};
	const snapshots: SnapshotServices = {
		list: async () => (calls.push('list'), []),
		save: async (_profile, name) => (calls.push(`save ${name}`), {ok: true, message: `saved ${name}`}),
		restore: async (_profile, name) => (calls.push(`restore ${name}`), {ok: true, message: `restored ${name}`}),
		remove: async (_profile, name) => (calls.push(`delete ${name}`), {ok: true, message: `deleted ${name}`}),
	};
	const mounted = render(<RunApp profile={profile} services={{...run.services, snapshots}} onExit={() => undefined} options={{tickMs: 20}} />);
	return {...mounted, calls};
}

const settle = () => new Promise(resolve => setTimeout(resolve, 150));

test('ssh-hosts: x and r on a console do nothing, and the footer does not offer them', async () => {
	const {stdin, lastFrame, calls} = mountOnMachines();
	await waitForFrame(lastFrame, f => f.includes('done: every stage passed'), 'the finished run');
	await press(stdin, 'c');
	const frame = await waitForFrame(lastFrame, f => f.includes('node01 · 52 lines'), 'the console view');
	assert.doesNotMatch(frame, /x\/s\/r/);
	await press(stdin, KEYS.tab, 'x');
	await settle();
	await press(stdin, 'r');
	await settle();
	assert.doesNotMatch(lastFrame() ?? '', /Proceed\?/);
	assert.deepEqual(calls, []);
});

test('ssh-hosts: s says snapshots are unavailable for existing machines; n, r and d do nothing', async () => {
	const {stdin, lastFrame, calls} = mountOnMachines();
	await waitForFrame(lastFrame, f => f.includes('done: every stage passed'), 'the finished run');
	assert.doesNotMatch(lastFrame() ?? '', /s snapshots/);
	await press(stdin, 's');
	await waitForFrame(lastFrame, f => f.includes('not available for existing machines (target ssh-hosts)'), 'the refusal');
	await press(stdin, 'n');
	await settle();
	await press(stdin, 'r');
	await settle();
	await press(stdin, 'd');
	await settle();
	assert.doesNotMatch(lastFrame() ?? '', /Proceed\?|y\/n/);
	assert.deepEqual(calls, []);
});

// First contact: the run screen lists the keys it would pin and asks; only y passes them to the run.
function mountFirstContact() {
	const vm = template();
	const profile = onSshHosts(vm, Object.fromEntries(vm.nodes.map((n, i) => [n.name, {host: `10.9.0.${i + 1}`, port: 22}])));
	const run = fakeRun(recordedEvents('run-demo-ok'), {outcome: {exitCode: 0}});
	const started: Array<Record<string, string> | undefined> = [];
	const keys = [
		{name: 'jump ops@bastion:22', where: 'ops@bastion:22', fingerprint: 'SHA256:bastionbastionbastionbastionbastionbastion0'},
		{name: 'node03', where: 'root@10.9.0.3:22', fingerprint: 'SHA256:node03node03node03node03node03node03node03'},
	];
	const services = {
		...run.services,
		newHostKeys: async () => keys,
		startRun: (p: typeof profile, options: Parameters<typeof run.services.startRun>[1]) => (started.push(options.approvedHostKeys), run.services.startRun(p, options)),
	};
	const mounted = render(<RunApp profile={profile} services={services} onExit={() => undefined} options={{tickMs: 20}} />);
	return {...mounted, started, keys};
}

test('ssh-hosts first contact: the new host keys are listed and the run waits; y runs with exactly those keys approved', async () => {
	const {stdin, lastFrame, started, keys} = mountFirstContact();
	const frame = await waitForFrame(lastFrame, f => f.includes('No host key is pinned yet for these 2'), 'the confirmation');
	for (const key of keys) assert.ok(frame.includes(key.fingerprint), frame);
	assert.match(frame, /bastion +ops@bastion:22/);
	assert.match(frame, /y: accept and pin exactly these keys/);
	await press(stdin, 'x');
	await settle();
	assert.deepEqual(started, [], 'no run before the answer, whatever else is pressed');
	await press(stdin, 'y');
	await waitForFrame(lastFrame, f => f.includes('done: every stage passed'), 'the run');
	assert.deepEqual(started, [{'jump ops@bastion:22': keys[0]!.fingerprint, node03: keys[1]!.fingerprint}]);
});

test('ssh-hosts first contact: n runs without accepting any key', async () => {
	const {stdin, lastFrame, started} = mountFirstContact();
	await waitForFrame(lastFrame, f => f.includes('No host key is pinned yet'), 'the confirmation');
	await press(stdin, 'n');
	await waitForFrame(lastFrame, f => f.includes('done: every stage passed'), 'the run');
	assert.deepEqual(started, [undefined]);
});
