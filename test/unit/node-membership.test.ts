import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {addControlPlaneDecision, isProblem, membersDown, nextNodeName, recovery, removeDecision, withAddedNode, withRemovedNode} from '../../source/model/node-membership.js';
import {macFor} from '../../source/model/mac.js';
import {macPrefixOf, resolveNodes} from '../../source/model/resolve.js';
import {MAX_NODES} from '../../source/model/profile-rules.js';
import {buildPlan} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {etcdctlCommand, parseMemberList} from '../../source/services/etcd-members.js';
import {assertWritable, ProfileStore, profileSourceOf, readProfileFile, writeProfileBack} from '../../source/services/profiles.js';
import {ProblemError} from '../../source/model/field-error.js';
import {StateStore} from '../../source/services/state.js';
import {template, tempDir} from '../helpers.js';

function added(profile: Profile, role: 'worker' | 'control-plane') {
	const result = withAddedNode(profile, role);
	assert.ok(!isProblem(result), JSON.stringify(result));
	return result;
}

function planOf(profile: Profile, joining?: string[]) {
	const dir = tempDir('plasma-members-');
	return buildPlan(profile, {clustersDir: path.join(dir, 'clusters'), imageDir: path.join(dir, 'image'), home: dir, joining});
}

test('node add: the next node gets the name, IP, MAC and SSH port the wizard would give it; the others do not move', () => {
	const demo = template('demo');
	const before = resolveNodes(demo);
	const {profile, node} = added(demo, 'control-plane');
	assert.equal(node, 'node04');
	assert.deepEqual(profile.nodes.at(-1), {name: 'node04', role: 'control-plane'}, 'nothing is pinned: auto-assignment decides');
	const after = resolveNodes(profile);
	assert.deepEqual(after.slice(0, 3), before);
	assert.equal(after[3]!.ip, '192.168.100.14');
	assert.equal(after[3]!.mac, macFor(macPrefixOf(demo), 3));
	assert.equal(after[3]!.sshPort, demo.network.sshPortBase + 3);
	assert.equal(added(demo, 'worker').profile.nodes.at(-1)!.role, 'worker');
});

test('node remove keeps every remaining node where it was; a node added later takes free values', () => {
	const demo = template('demo');
	const before = new Map(resolveNodes(demo).map(n => [n.name, n]));
	const removed = withRemovedNode(demo, 'node02');
	assert.ok(!isProblem(removed));
	assert.deepEqual(removed.nodes.map(n => n.name), ['node01', 'node03']);
	assert.deepEqual(removed.nodes[0], demo.nodes[0], 'node01 needs no override');
	const node03 = resolveNodes(removed)[1]!;
	const was = before.get('node03')!;
	assert.deepEqual([node03.ip, node03.mac, node03.sshPort], [was.ip, was.mac, was.sshPort]);
	assert.deepEqual(removed.nodes[1], {name: 'node03', role: 'control-plane', ip: was.ip, mac: was.mac, sshPort: was.sshPort, switchPort: was.switchPort});
	// The next add: node03 is taken, so node04; .13 and port +2 are taken by node03, so the next free ones.
	assert.equal(nextNodeName(removed), 'node04');
	const again = resolveNodes(added(removed, 'worker').profile)[2]!;
	assert.equal(again.name, 'node04');
	assert.equal(again.ip, '192.168.100.14');
	assert.equal(again.sshPort, demo.network.sshPortBase + 3);
	// Removing the last node changes nobody.
	const last = withRemovedNode(demo, 'node03');
	assert.ok(!isProblem(last));
	assert.deepEqual(last.nodes, demo.nodes.slice(0, 2));
});

test('node add and remove say what is wrong: an unknown node, a full profile', () => {
	const demo = template('demo');
	const unknown = withRemovedNode(demo, 'node09');
	assert.ok(isProblem(unknown));
	assert.match(unknown.message, /has no node named "node09"/);
	assert.match(unknown.fix ?? '', /node01, node02, node03/);
	let full = demo;
	while (full.nodes.length < MAX_NODES) full = added(full, 'worker').profile;
	const refused = withAddedNode(full, 'worker');
	assert.ok(isProblem(refused));
	assert.match(refused.message, /the most a profile may have/);
});

test('plan: a joining control plane starts etcd with state "existing" and an initial cluster of the members plus itself', () => {
	const profile = added(template('demo'), 'control-plane').profile;
	const joining = planOf(profile, ['node04']);
	const node04 = joining.nodes[3]!;
	assert.equal(joining.membership, 'etcd');
	assert.deepEqual(node04.etcd, {
		peerUrl: 'https://node04:2380',
		clientUrl: 'https://node04:2379',
		clusterState: 'existing',
		initialCluster: 'node01=https://node01:2380,node02=https://node02:2380,node03=https://node03:2380,node04=https://node04:2380',
	});
	assert.equal(joining.nodes[0]!.etcd.clusterState, 'new');
	const command = (node: typeof node04) => (node.install.method === 'push' ? node.install.commands.find(c => c.includes('etcd --name'))! : '');
	assert.match(command(node04), /--initial-cluster-state 'existing'/);
	assert.match(command(node04), /--initial-cluster 'node01=https:\/\/node01:2380,node02=.*,node04=https:\/\/node04:2380'/);
	assert.match(command(joining.nodes[0]!), /--initial-cluster-state 'new'/);
	// The same profile brought up from nothing: every member bootstraps a new cluster.
	const fresh = planOf(profile);
	assert.ok(fresh.nodes.every(n => n.etcd.clusterState === 'new'));
	assert.match(command(fresh.nodes[3]!), /--initial-cluster-state 'new'/);
	// Two joining at once: each lists the running members and itself, never the other joiner.
	const two = planOf(added(profile, 'control-plane').profile, ['node04', 'node05']);
	assert.equal(two.nodes[4]!.etcd.initialCluster, 'node01=https://node01:2380,node02=https://node02:2380,node03=https://node03:2380,node05=https://node05:2380');
	// A worker is no member: it joins through the proxy to the members, as today.
	const worker = planOf(added(template('demo'), 'worker').profile);
	assert.match(worker.nodes[3]!.install.method === 'push' ? worker.nodes[3]!.install.commands.join('\n') : '', /grpc-proxy start --endpoints 'https:\/\/node01:2379,https:\/\/node02:2379,https:\/\/node03:2379'/);
	// The checks count members from the plan: raft-quorum expects the control planes of the updated profile.
	assert.equal(joining.nodes.filter(n => n.role === 'control-plane').length, 4);
	// A profile whose commands start no etcd members has nothing to tell etcd.
	assert.equal(planOf(template('plasmacloud-3node')).membership, 'none');
});

test('remove guard: what it costs is said; a quorum-losing remove is refused without --force', () => {
	const members = ['node01', 'node02', 'node03'];
	const fine = removeDecision({controlPlane: members, down: [], name: 'node03', force: false});
	assert.equal(fine.refused, false);
	assert.equal(fine.verdict.message, 'removing node03 leaves 2 of 3 members: quorum holds (needs 2)');
	// node02 is stopped (the state file's fake: no live QEMU): taking node01 leaves one of three.
	const down = membersDown({nodes: members.map(name => ({name, role: 'control-plane' as const}))}, {nodes: {node01: {phase: 'healthy'}, node02: {phase: 'healthy'}, node03: {phase: 'healthy'}}}, new Set(['node01', 'node03']));
	assert.deepEqual(down, ['node02']);
	const losing = removeDecision({controlPlane: members, down, name: 'node01', force: false});
	assert.equal(losing.refused, true);
	assert.equal(losing.verdict.message, 'removing node01 leaves 1 of 3 members: the cluster loses quorum (needs 2)');
	assert.equal(removeDecision({controlPlane: members, down, name: 'node01', force: true}).refused, false, '--force goes on');
	// Removing the member that is down costs nothing.
	assert.equal(removeDecision({controlPlane: members, down, name: 'node02', force: false}).refused, false);
	// A failed node counts as down even with its QEMU running.
	assert.deepEqual(membersDown({nodes: [{name: 'a', role: 'control-plane'}, {name: 'w', role: 'worker'}]}, {nodes: {a: {phase: 'failed'}}}, new Set(['a'])), ['a']);
});

test('add guard: a new member counts before it starts; with quorum gone etcd would refuse, so the add is refused', () => {
	const ok = addControlPlaneDecision({controlPlane: ['node01', 'node02', 'node03'], down: [], name: 'node04', force: false});
	assert.equal(ok.refused, false);
	assert.equal(ok.verdict.message, 'adding node04: until it starts, 3 of 4 members are up: quorum holds (needs 3)');
	const lost = addControlPlaneDecision({controlPlane: ['node01', 'node02', 'node03'], down: ['node02', 'node03'], name: 'node04', force: false});
	assert.equal(lost.refused, true);
	assert.match(lost.verdict.message, /1 of 4 members are up: the cluster has no quorum/);
});

test('etcdctl: the member list is read as hex ids; commands carry the member certificate flags', () => {
	const listed = parseMemberList(['8e9e05c52164694d, started, node01, https://node01:2380, https://node01:2379, false', 'a1b2c3d4e5f60718, unstarted, , https://node04:2380, , false', ''].join('\n'));
	assert.deepEqual(listed, [
		{id: '8e9e05c52164694d', status: 'started', name: 'node01', peerUrls: ['https://node01:2380']},
		{id: 'a1b2c3d4e5f60718', status: 'unstarted', name: '', peerUrls: ['https://node04:2380']},
	]);
	const node = planOf(template('demo')).nodes[0]!;
	assert.equal(
		etcdctlCommand(node, ['member', 'add', 'node04', '--peer-urls=https://node04:2380']),
		"ETCDCTL_API=3 etcdctl '--endpoints=https://node01:2379' '--cacert=/etc/plasma/secrets/ca.crt' '--cert=/etc/plasma/secrets/node01.crt' '--key=/etc/plasma/secrets/node01.key' '--command-timeout=15s' 'member' 'add' 'node04' '--peer-urls=https://node04:2380'",
	);
});

test('the changed profile goes back where it came from; a template is refused with a fix', async () => {
	const dir = tempDir('plasma-writeback-');
	const store = new ProfileStore(path.join(dir, 'config'));
	const demo = {...template('demo'), name: 'lab'};
	store.save(demo);
	const changed = added(demo, 'worker').profile;

	const saved = profileSourceOf({name: 'lab', store});
	assert.equal(saved.kind, 'saved');
	await writeProfileBack(saved, changed);
	const reloaded = store.load('lab');
	assert.ok(reloaded.ok);
	assert.equal(reloaded.profile.nodes.length, 4);

	const file = path.join(dir, 'lab.json');
	fs.writeFileSync(file, JSON.stringify(demo));
	const fromFile = profileSourceOf({file, store});
	await writeProfileBack(fromFile, changed);
	const read = await readProfileFile(file);
	assert.ok(read.ok);
	assert.equal(read.profile.nodes.at(-1)!.name, 'node04');
	assert.deepEqual(fs.readdirSync(dir).sort(), ['config', 'lab.json'], 'written atomically: no temp file left');

	const builtIn = profileSourceOf({name: 'demo', store});
	assert.equal(builtIn.kind, 'template');
	assert.throws(() => assertWritable(builtIn, 'node add'), (error: unknown) => {
		assert.ok(error instanceof ProblemError);
		assert.match(error.problem.message, /"demo" is a built-in template: node add would have to change it/);
		assert.match(error.problem.fix ?? '', /save it under a name first/);
		return true;
	});
	await assert.rejects(writeProfileBack(builtIn, changed), ProblemError);
});

test('a membership change in progress is in the state file until it is done, and says how to recover', async () => {
	const dir = tempDir('plasma-change-');
	const state = await StateStore.open(path.join(dir, 'work', 'state.json'), 'lab', path.join(dir, 'work'));
	const change = {action: 'add' as const, node: 'node04', role: 'control-plane' as const, step: 'etcd member add', startedAt: '2026-12-01T00:00:00.000Z', dir: path.join(dir, 'work', 'nodes', 'node04')};
	await state.setMembership(change);
	await state.setNode('node04', 'booting');
	const reopened = await StateStore.open(state.file, 'lab', path.join(dir, 'work'));
	assert.deepEqual(reopened.current.membership, change);
	assert.equal(recovery(change), 'node add node04 stopped at step "etcd member add" (started 2026-12-01T00:00:00.000Z); the state file records it: undo it with "plasma-tui node remove node04 --force" (then add again)');
	assert.match(recovery({...change, action: 'remove'}), /finish it with "plasma-tui node remove node04"$/);
	await reopened.forgetNode('node04');
	await reopened.setMembership(undefined);
	const done = JSON.parse(fs.readFileSync(state.file, 'utf8')) as Record<string, unknown>;
	assert.equal(done['membership'], undefined);
	assert.deepEqual(done['nodes'], {});
});

// The command on a fake running cluster: the state file records two live "QEMU" processes
// (stand-ins whose argv and exe match their records) and node02's is gone.
test('node remove refuses a quorum-losing remove without --force, on a fake state, and changes nothing', async () => {
	const dir = tempDir('plasma-guard-');
	const previousHome = process.env['PLASMA_TUI_HOME'];
	process.env['PLASMA_TUI_HOME'] = dir;
	const {spawn} = await import('node:child_process');
	const standIns = ['node01', 'node03'].map(name => ({name, child: spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'plasma-fake-qemu', name], {stdio: 'ignore'})}));
	const printed: string[] = [];
	const original = {log: console.log, error: console.error};
	try {
		const profile = {...template('demo'), name: 'guard', workDir: path.join(dir, 'guard')};
		const file = path.join(dir, 'guard.json');
		fs.writeFileSync(file, JSON.stringify(profile));
		const plan = buildPlan(profile, {clustersDir: path.join(dir, 'clusters'), imageDir: path.join(dir, 'image'), home: dir});
		const state = await StateStore.open(plan.stateFile, 'guard', plan.workDir);
		for (const {name, child} of standIns) {
			await state.recordProcess({kind: 'qemu', node: name, pid: child.pid!, argv: [], exe: [process.execPath], match: ['plasma-fake-qemu', name], sockets: [], ports: [], startedAt: new Date().toISOString(), status: 'running'});
			await state.setNode(name, 'healthy');
		}
		await state.recordProcess({kind: 'qemu', node: 'node02', pid: 999_999, argv: [], exe: [process.execPath], match: ['plasma-fake-qemu', 'node02'], sockets: [], ports: [], startedAt: new Date().toISOString(), status: 'running'});
		const before = fs.readFileSync(file, 'utf8');
		console.log = (line: string) => printed.push(line);
		console.error = (line: string) => printed.push(line);
		const {run} = await import('../../source/commands/node-membership.js');
		const code = await run({values: {'profile-file': file, yes: true}, positionals: ['remove', 'node01']});
		console.log = original.log;
		console.error = original.error;
		assert.equal(code, 1, printed.join('\n'));
		assert.match(printed.join('\n'), /removing node01 leaves 1 of 3 members: the cluster loses quorum \(needs 2\)/);
		assert.match(printed.join('\n'), /refused: .*\(fix: bring the stopped members back first, or add --force to remove it anyway\)/);
		assert.equal(fs.readFileSync(file, 'utf8'), before, 'the profile is unchanged');
		assert.equal((await StateStore.open(plan.stateFile, 'guard', plan.workDir)).current.membership, undefined, 'nothing was started');
	} finally {
		console.log = original.log;
		console.error = original.error;
		for (const {child} of standIns) child.kill();
		if (previousHome === undefined) delete process.env['PLASMA_TUI_HOME'];
		else process.env['PLASMA_TUI_HOME'] = previousHome;
	}
});

test('node add issues only the new node certificate: the CA and every other node certificate and key keep their bytes', async () => {
	const {writeArtifacts} = await import('../../source/services/artifacts.js');
	const {createHash} = await import('node:crypto');
	const dir = tempDir('plasma-certs-');
	const context = {clustersDir: path.join(dir, 'clusters'), imageDir: path.join(dir, 'image'), home: dir};
	const demo = template('demo');
	const before = buildPlan(demo, context);
	await writeArtifacts(before);
	const kept = [before.tls.caCert, before.tls.caKey, ...before.nodes.flatMap(n => [n.secrets.cert, n.secrets.key])];
	const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
	const hashes = kept.map(sha);
	const after = buildPlan(added(demo, 'control-plane').profile, {...context, joining: ['node04']});
	const report = await writeArtifacts(after);
	assert.deepEqual(report.certificates.filter(c => !c.reused).map(c => c.node), ['node04']);
	assert.equal(report.ca.reused, true);
	assert.deepEqual(kept.map(sha), hashes);
	// Every node's hosts file names the new node (what `node add` then pushes to the running nodes).
	for (const node of after.nodes) assert.match(fs.readFileSync(node.files.hosts, 'utf8'), /^192\.168\.100\.14 node04 node04\.demo\.internal$/m);
});

// What a crash half-way leaves, and what the next command does with it.
async function commandIn(dir: string, profile: Profile, args: {values: Record<string, string | boolean>; positionals: string[]}): Promise<{code: number; printed: string}> {
	const previousHome = process.env['PLASMA_TUI_HOME'];
	process.env['PLASMA_TUI_HOME'] = dir;
	const file = path.join(dir, `${profile.name}.json`);
	fs.writeFileSync(file, JSON.stringify(profile));
	const printed: string[] = [];
	const original = {log: console.log, error: console.error};
	console.log = (line: string) => printed.push(line);
	console.error = (line: string) => printed.push(line);
	try {
		const {run} = await import('../../source/commands/node-membership.js');
		return {code: await run({values: {'profile-file': file, yes: true, ...args.values}, positionals: args.positionals}), printed: printed.join('\n')};
	} finally {
		console.log = original.log;
		console.error = original.error;
		if (previousHome === undefined) delete process.env['PLASMA_TUI_HOME'];
		else process.env['PLASMA_TUI_HOME'] = previousHome;
	}
}

test('a remove that crashed after the profile was written is finished by running it again; an unfinished change blocks others', async () => {
	const dir = tempDir('plasma-resume-');
	const profile = {...template('demo'), name: 'resume', workDir: path.join(dir, 'resume')};
	const plan = buildPlan(profile, {clustersDir: path.join(dir, 'clusters'), imageDir: path.join(dir, 'image'), home: dir});
	const state = await StateStore.open(plan.stateFile, 'resume', plan.workDir);
	const leftDir = path.join(plan.workDir, 'nodes', 'node04');
	fs.mkdirSync(path.join(leftDir, 'secrets'), {recursive: true});
	fs.writeFileSync(path.join(leftDir, 'disk.qcow2'), 'disk');
	await state.setMembership({action: 'remove', node: 'node04', role: 'control-plane', step: 'files', startedAt: new Date().toISOString(), dir: leftDir});

	const blocked = await commandIn(dir, profile, {values: {}, positionals: ['add']});
	assert.equal(blocked.code, 1, blocked.printed);
	assert.match(blocked.printed, /an earlier node remove node04 stopped at step "files" .*finish it with "plasma-tui node remove node04"/);
	assert.ok(fs.existsSync(leftDir), 'a refused command touches nothing');

	const resumed = await commandIn(dir, profile, {values: {}, positionals: ['remove', 'node04']});
	assert.equal(resumed.code, 0, resumed.printed);
	assert.match(resumed.printed, /finished removing node04/);
	assert.equal(fs.existsSync(leftDir), false);
	assert.equal((await StateStore.open(plan.stateFile, 'resume', plan.workDir)).current.membership, undefined);
	const {readTimeline} = await import('../../source/services/timeline.js');
	assert.ok((await readTimeline(plan.timelineFile)).entries.some(e => e.kind === 'lifecycle' && e.subject === 'node04' && /^node removed/.test(e.detail ?? '')));
});

test('node add on a cluster that is not running says to bring it up first; bad input is refused before anything', async () => {
	const dir = tempDir('plasma-notup-');
	const profile = {...template('demo'), name: 'notup', workDir: path.join(dir, 'notup')};
	const stopped = await commandIn(dir, profile, {values: {}, positionals: ['add']});
	assert.equal(stopped.code, 3, stopped.printed);
	assert.match(stopped.printed, /nothing of "notup" runs \(fix: bring it up first: plasma-tui up --profile-file .*notup\.json\)/);
	const badRole = await commandIn(dir, profile, {values: {role: 'boss'}, positionals: ['add']});
	assert.equal(badRole.code, 2);
	assert.match(badRole.printed, /--role "boss" is no role/);
	const noName = await commandIn(dir, profile, {values: {}, positionals: ['remove']});
	assert.equal(noName.code, 2);
	assert.match(noName.printed, /which node\?/);
});

test('a removed node leaves no pinned host key behind: not in the profile, not in the pin store', async () => {
	const demo = template('demo');
	demo.ssh.hostKeys = {node02: 'SHA256:two', node03: 'SHA256:three'};
	const removed = withRemovedNode(demo, 'node03');
	assert.ok(!isProblem(removed));
	assert.deepEqual(removed.ssh.hostKeys, {node02: 'SHA256:two'});
	const {forgetPinnedHostKey} = await import('../../source/services/ssh.js');
	const file = path.join(tempDir('plasma-pins-'), 'known_hosts.json');
	const pin = (port: number) => ({fingerprint: `SHA256:${port}`, host: '127.0.0.1', port, pinnedAt: '2026-12-01T00:00:00.000Z'});
	fs.writeFileSync(file, JSON.stringify({node01: pin(2241), node04: pin(2244)}));
	assert.equal(await forgetPinnedHostKey(file, 'node04'), true);
	assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), {node01: pin(2241)});
	assert.equal(await forgetPinnedHostKey(file, 'node04'), false, 'twice is harmless');
	assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');
});
