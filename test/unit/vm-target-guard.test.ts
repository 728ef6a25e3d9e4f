import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {tmpdir} from 'node:os';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import path from 'node:path';
import {buildPlan, type Plan} from '../../source/model/plan.js';
import {formatProblem, ProblemError} from '../../source/model/field-error.js';
import {assertVmTarget} from '../../source/model/ssh-hosts-rules.js';
import {onSshHosts} from '../../source/model/ssh-hosts-profile.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {powerNode} from '../../source/engine/node-power.js';
import {saveSnapshot, deleteSnapshot} from '../../source/engine/snapshot.js';
import {restoreSnapshot} from '../../source/engine/snapshot-restore.js';
import {applyFault} from '../../source/engine/faults.js';
import {stopCluster} from '../../source/engine/cluster-power.js';
import {template} from '../helpers.js';

// What works through QEMU and the switch only is refused on existing machines, by one guard, before anything is touched.

const dirs: string[] = [];
after(() => dirs.forEach(dir => rmSync(dir, {recursive: true, force: true})));

function hostsPlan(): {profile: Profile; plan: Plan} {
	const dir = mkdtempSync(path.join(tmpdir(), 'plasma-vm-guard-'));
	dirs.push(dir);
	const vm = template('demo');
	const profile = onSshHosts(vm, Object.fromEntries(vm.nodes.map((n, i) => [n.name, {host: `10.9.0.${i + 1}`, port: 22}])));
	profile.workDir = path.join(dir, 'work');
	return {profile, plan: buildPlan(profile, {clustersDir: dir, imageDir: dir, home: dir})};
}

test('the guard passes a VM profile and refuses ssh-hosts naming target.kind, the profile and the command', () => {
	const {profile, plan} = hostsPlan();
	assert.doesNotThrow(() => assertVmTarget({kind: 'qemu'}, 'demo', 'snapshot'));
	assert.throws(
		() => assertVmTarget(plan.target, plan.profileName, 'node stop'),
		(error: unknown) => {
			assert.ok(error instanceof ProblemError);
			assert.equal(error.problem.field, 'target.kind');
			assert.equal(formatProblem(error.problem), `target.kind: profile ${profile.name} targets existing machines (ssh-hosts); node stop works on the VMs plasma-tui starts itself (fix: rehearse with a VM profile (target.kind qemu); on machines use up, validate, watch, status and down)`);
			return true;
		},
	);
});

test('node power, snapshots, faults and stop refuse an ssh-hosts plan before touching the work directory', async () => {
	const {profile, plan} = hostsPlan();
	const onEvent = () => undefined;
	const node = plan.nodes[0]!.name;
	const calls: Array<[string, () => Promise<unknown>]> = [
		['node stop', () => powerNode(profile, plan, node, 'stop', {onEvent})],
		['node start', () => powerNode(profile, plan, node, 'start', {onEvent})],
		['node restart', () => powerNode(profile, plan, node, 'restart', {onEvent})],
		['snapshot save', () => saveSnapshot(profile, plan, 's1', {onEvent})],
		['snapshot delete', () => deleteSnapshot(profile, plan, 's1', {onEvent})],
		['snapshot restore', () => restoreSnapshot(profile, plan, 's1', {onEvent})],
		['fault', () => applyFault(plan, {action: 'kill', node})],
		['stop', () => stopCluster(profile.name, plan, {onEvent})],
	];
	for (const [what, call] of calls) {
		await assert.rejects(call, (error: unknown) => error instanceof ProblemError && error.problem.field === 'target.kind', what);
	}
	assert.equal(existsSync(plan.workDir), false, 'nothing written');
});
