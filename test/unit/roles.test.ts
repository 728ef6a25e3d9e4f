import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import {formatReport, validateCluster} from '../../source/engine/validation.js';
import type {RunEvent} from '../../source/model/events.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {formatPlan} from '../../source/model/plan-format.js';
import type {Plan} from '../../source/model/plan.js';
import {withNodeCount} from '../../source/model/resolve.js';
import {applyRunEvents, checkSummary, createRunView, notRunRows} from '../../source/model/run-view.js';
import {validateChecks} from '../../source/model/check-rules.js';
import {putRequestFrame} from '../../source/services/checks/etcd-grpc.js';
import {clusterCheckAttempt} from '../../source/services/checks/registry.js';
import type {NodeSsh} from '../../source/services/ssh.js';
import {planIn, template, tempDir} from '../helpers.js';

// Issue 10, points 1 and 2: a demo edited to 5 nodes (the wizard makes node04
// and node05 workers) must install and validate, and a cluster with failed
// nodes is validated as far as it is up.

function fiveNodeDemo(): Plan {
	const home = tempDir();
	process.env['PLASMA_TUI_HOME'] = home;
	return planIn(home, withNodeCount(template('demo'), 5));
}

const pushOf = (plan: Plan, node: string) => {
	const install = plan.nodes.find(n => n.name === node)!.install;
	assert.equal(install.method, 'push');
	return install as Extract<typeof install, {method: 'push'}>;
};

test('5-node demo: members get the etcd member commands, workers the grpc-proxy to the members', () => {
	// Issue 10, point 1: on main before this, node04 and node05 got the same `etcd --name node04
	// --initial-cluster node01=...,node03=...` as the members and failed with "couldn't find local name".
	const plan = fiveNodeDemo();
	assert.deepEqual(plan.nodes.map(n => `${n.name}:${n.role}`), ['node01:control-plane', 'node02:control-plane', 'node03:control-plane', 'node04:worker', 'node05:worker']);
	assert.deepEqual(plan.problems, []);
	assert.equal(plan.etcdInitialCluster, 'node01=https://node01:2380,node02=https://node02:2380,node03=https://node03:2380', 'the initial cluster lists only control planes');
	assert.equal(plan.etcdEndpoints, 'https://node01:2379,https://node02:2379,https://node03:2379');
	for (const name of ['node01', 'node02', 'node03']) {
		const push = pushOf(plan, name);
		assert.equal(push.commands.length, 2);
		assert.match(push.commands[1]!, new RegExp(`^/sbin/svc start etcd etcd --name '${name}' .*--initial-cluster '${plan.etcdInitialCluster}'`));
		assert.ok(push.commands.every(c => !c.includes('grpc-proxy')));
		assert.deepEqual(push.commandFields, ['install.push.commands[0]', 'install.push.commands[1]']);
	}
	for (const name of ['node04', 'node05']) {
		const node = plan.nodes.find(n => n.name === name)!;
		const push = pushOf(plan, name);
		assert.equal(push.commands.length, 2);
		assert.ok(push.commands.every(c => !c.includes('--initial-cluster')), `${name} is not an etcd member`);
		assert.equal(push.commands[1], `/sbin/svc stop etcd-proxy && /sbin/svc start etcd-proxy etcd grpc-proxy start --endpoints '${plan.etcdEndpoints}' --listen-addr '${node.ip}':23790 --advertise-client-url '${node.hostname}':23790 --cacert '${node.secrets.remoteCa}' --cert '${node.secrets.remoteCert}' --key '${node.secrets.remoteKey}' --cert-file '${node.secrets.remoteCert}' --key-file '${node.secrets.remoteKey}' --trusted-ca-file '${node.secrets.remoteCa}'`);
		// A failure names the profile's field, not the position in this node's shorter list.
		assert.deepEqual(push.commandFields, ['install.push.commands[0]', 'install.push.commands[2]']);
	}
	// `plan` shows each node's own commands.
	const shown = formatPlan(plan);
	assert.match(shown, /push install commands for node04:\n {2}\$ \/sbin\/plasma-disk install [^\n]*\n {2}\$ \/sbin\/svc stop etcd-proxy && \/sbin\/svc start etcd-proxy etcd grpc-proxy start/);
	assert.match(shown, /push install commands for node03:\n[^\n]*\n {2}\$ \/sbin\/svc start etcd etcd --name 'node03'/);
});

test('uploads and commands with roles, and their errors', () => {
	const profile = template('demo') as unknown as Record<string, any>;
	profile['install'].push.files = [{src: '/etc/hostname', dest: '/etc/plasma/worker.conf', roles: ['worker']}];
	const home = tempDir();
	const parsed = parseProfile(structuredClone(profile));
	assert.ok(parsed.ok, JSON.stringify(parsed));
	const plan = planIn(home, withNodeCount(parsed.profile, 4));
	const uploads = (node: string) => (pushOf(plan, node).uploads).map(u => u.remote);
	assert.ok(uploads('node04').includes('/etc/plasma/worker.conf'));
	assert.ok(!uploads('node01').includes('/etc/plasma/worker.conf'));

	profile['install'].push.commands = [{run: 'true', roles: ['worker'], when: 'always'}];
	const refused = parseProfile(structuredClone(profile));
	assert.equal(refused.ok, false, 'a misspelt key in a command object is an error');

	const checks = template('demo');
	checks.checks = [
		{type: 'raft-quorum', port: 2379, roles: ['control-plane'], timeoutSec: 5},
		{type: 'tcp-port', port: 2379, roles: [], timeoutSec: 5},
	];
	const problems = validateChecks(checks);
	assert.ok(problems.some(p => p.field === 'checks[0].roles' && /cluster check/.test(p.message)), JSON.stringify(problems));
	assert.ok(problems.some(p => p.field === 'checks[1].roles' && /no role/.test(p.message)), JSON.stringify(problems));
});

// Answers exec (command checks) and etcd's JSON gateway (raft-quorum) as a healthy member would.
function fakeNode(name: string, members: string[]): NodeSsh {
	return {
		closed: false,
		async exec() {
			return {code: 0, stdout: `ran on ${name}\n`, stderr: ''};
		},
		async httpsRequest(options: {path: string}) {
			const body = options.path === '/v3/cluster/member/list' ? {header: {cluster_id: '42'}, members: members.map(m => ({name: m}))} : {leader: '7'};
			return {status: 200, headers: {}, body: JSON.stringify(body)};
		},
		close() {},
	} as unknown as NodeSsh;
}

test('partial validation: failed nodes are not run with their reason, role checks run on their roles, quorum counts the failed member as silent', async () => {
	// Issue 10, point 2: on main before this, a run with failed nodes skipped validation
	// entirely, and a node without a connection had every check "failed: no SSH connection".
	const plan = fiveNodeDemo();
	for (const node of plan.nodes) {
		await fs.mkdir(node.secrets.dir, {recursive: true});
		for (const file of [node.secrets.ca, node.secrets.cert, node.secrets.key]) await fs.writeFile(file, 'pem');
	}
	const profile = withNodeCount(template('demo'), 5);
	profile.checks = [
		{type: 'command', name: 'members only', command: 'true', roles: ['control-plane'], expectExit: 0, timeoutSec: 2},
		{type: 'command', name: 'workers only', command: 'true', roles: ['worker'], expectExit: 0, timeoutSec: 2},
		{type: 'command', name: 'everywhere', command: 'true', expectExit: 0, timeoutSec: 2},
		{type: 'raft-quorum', port: 2379, timeoutSec: 2},
	];
	const up = ['node01', 'node02', 'node04'];
	const connections = new Map(up.map(name => [name, fakeNode(name, ['node01', 'node02', 'node03'])]));
	const events: RunEvent[] = [];
	const report = await validateCluster(profile, plan, {
		connections,
		onEvent: event => events.push(event),
		notRun: {node03: 'node03 did not finish: install.push.commands[1] exited 1', node05: 'node05 did not finish: QEMU exited'},
	});
	const cell = (check: string, node?: string) => report.results.find(r => r.check === check && r.node === node);
	assert.deepEqual(report.results.filter(r => r.check === 'members only').map(r => `${r.node}:${r.status}`).sort(), ['node01:ok', 'node02:ok', 'node03:not-run']);
	assert.deepEqual(report.results.filter(r => r.check === 'workers only').map(r => `${r.node}:${r.status}`).sort(), ['node04:ok', 'node05:not-run']);
	assert.deepEqual(report.results.filter(r => r.check === 'everywhere').map(r => `${r.node}:${r.status}`).sort(), ['node01:ok', 'node02:ok', 'node03:not-run', 'node04:ok', 'node05:not-run']);
	assert.equal(cell('workers only', 'node05')!.reason, 'node05 did not finish: QEMU exited');
	// Members are counted from the plan: 3 planned (not 5), node03 silent, workers not asked.
	assert.equal(cell('raft-quorum :2379')!.status, 'ok');
	assert.match(cell('raft-quorum :2379')!.detail, /3 members, leader 7, 2 of 3 answering \(silent: node03\)/);
	assert.equal(report.ok, false, 'checks not run are not a pass');
	const text = formatReport(report);
	assert.match(text, /FAILED \(0 failed, 4 not run on node0[35], node0[35], 7 ok\)/);
	assert.match(text, /^\[not run\] node05 +workers only: node05 did not finish: QEMU exited$/m);
	assert.ok(events.some(e => e.type === 'check' && e.status === 'not-run' && e.node === 'node03'));
	assert.deepEqual(JSON.parse(await fs.readFile(plan.report.json, 'utf8')).results.filter((r: {status: string}) => r.status === 'not-run').length, 4);

	// The checklist's view: a distinct status, counted, with each node's reason once.
	const view = applyRunEvents(createRunView(plan.nodes.map(n => n.name), 0), events);
	assert.deepEqual(checkSummary(view), {ok: 7, failed: 0, waiting: 0, notRun: 4, total: 11});
	assert.deepEqual(notRunRows(view), [
		{row: 'node03', reason: 'node03 did not finish: install.push.commands[1] exited 1', checks: 2},
		{row: 'node05', reason: 'node05 did not finish: QEMU exited', checks: 2},
	]);
});

test('with every node failed, cluster checks are not run instead of polled', async () => {
	const plan = fiveNodeDemo();
	const profile = withNodeCount(template('demo'), 5);
	profile.checks = [{type: 'crud', port: 2379, timeoutSec: 60}];
	const started = Date.now();
	const report = await validateCluster(profile, plan, {connections: new Map(), onEvent: () => undefined, notRun: Object.fromEntries(plan.nodes.map(n => [n.name, `${n.name} did not finish`]))});
	assert.ok(Date.now() - started < 5000);
	assert.equal(report.results[0]!.status, 'not-run');
	assert.match(report.results[0]!.reason!, /no node could be validated/);
});

test('crud and persistence use only the planned members, never a worker', async () => {
	const plan = fiveNodeDemo();
	for (const node of plan.nodes) {
		await fs.mkdir(node.secrets.dir, {recursive: true});
		for (const file of [node.secrets.ca, node.secrets.cert, node.secrets.key]) await fs.writeFile(file, 'pem');
	}
	const store = new Map<string, string>();
	const asked = new Set<string>();
	const nodes = plan.nodes.map(node => ({
		node,
		ssh: {
			closed: false,
			async httpsRequest(options: {path: string; body?: string}) {
				asked.add(node.name);
				const body = JSON.parse(options.body ?? '{}') as {key?: string; value?: string};
				if (options.path === '/v3/kv/put') store.set(body.key!, body.value!);
				if (options.path === '/v3/kv/range') return {status: 200, headers: {}, body: JSON.stringify({kvs: store.has(body.key!) ? [{value: store.get(body.key!)}] : []})};
				if (options.path === '/v3/kv/deleterange') return {status: 200, headers: {}, body: JSON.stringify({deleted: store.delete(body.key!) ? '1' : '0'})};
				return {status: 200, headers: {}, body: '{}'};
			},
		} as unknown as NodeSsh,
	}));
	const detail = await clusterCheckAttempt({type: 'crud', port: 2379, timeoutSec: 5}, {plan, nodes, timeoutMs: 5000});
	assert.equal(typeof detail, 'string');
	assert.match(detail as string, /written on node01, read and deleted on node02/);
	assert.deepEqual([...asked].sort(), ['node01', 'node02'], 'the writer and the reader, both members: no worker');
});

test('a gRPC Put is framed as etcd expects: uncompressed, 4-byte length, key = 1, value = 2', () => {
	assert.deepEqual([...putRequestFrame('k', 'vv')], [0, 0, 0, 0, 7, 0x0a, 1, 0x6b, 0x12, 2, 0x76, 0x76]);
	const long = putRequestFrame('x'.repeat(200), '');
	assert.deepEqual([...long.subarray(5, 8)], [0x0a, 0xc8, 0x01], 'lengths over 127 are varints');
});

test("a worker's certificate has no Common Name (etcd grpc-proxy refuses one as its client certificate)", async () => {
	// Seen with real VMs: on main before this, node04's grpc-proxy exited at once with
	// "cert has non empty Common Name (node04)" and its port refused connections.
	const {X509Certificate} = await import('node:crypto');
	const {createCa, issueNodeCertificate} = await import('../../source/services/tls.js');
	const plan = fiveNodeDemo();
	const created = await createCa('CN=test CA', 'ecdsa-p256', 2);
	const ca = {cert: new X509Certificate(created.certPem), pem: created.certPem, key: created.key, keyType: 'ecdsa-p256' as const};
	for (const node of plan.nodes) {
		const issued = new X509Certificate((await issueNodeCertificate(ca, node, 'ecdsa-p256', 2)).certPem);
		if (node.role === 'worker') assert.doesNotMatch(issued.subject, /CN=/, node.name);
		else assert.equal(issued.subject, `CN=${node.hostname}`);
		assert.match(issued.subjectAltName ?? '', new RegExp(`DNS:${node.hostname}`));
	}
});
