import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import {runningPlan} from '../../source/engine/node-power.js';
import {runningAccel, StateStore, type ProcessEntry, type RunState} from '../../source/services/state.js';
import {planIn, template, tempDir, waitFor} from '../helpers.js';

function qemu(node: string, argv: string[]): ProcessEntry {
	return {kind: 'qemu', node, pidfile: `/w/${node}.pid`, argv, exe: ['qemu-system-x86_64'], match: [], sockets: [], ports: [], startedAt: '2026-01-01T00:00:00Z', status: 'running'};
}

function state(processes: ProcessEntry[]): RunState {
	return {version: 1, profile: 'demo', workDir: '/w', processes, nodes: {}, updatedAt: '2026-01-01T00:00:00Z'};
}

test('the running accelerator is the recorded QEMU argv\'s exact "-accel kvm" pair', () => {
	assert.equal(runningAccel(state([qemu('node01', ['qemu-system-x86_64', '-accel', 'kvm', '-cpu', 'host'])]), 'tcg'), 'kvm');
	assert.equal(runningAccel(state([qemu('node01', ['qemu-system-x86_64', '-accel', 'tcg'])]), 'kvm'), 'tcg');
	// "kvm" elsewhere in the argv (a path, a name) is not the accelerator.
	assert.equal(runningAccel(state([qemu('node01', ['qemu-system-x86_64', '-name', 'kvm-lab', '-accel', 'tcg', '-drive', 'file=/kvm/disk.qcow2'])]), 'kvm'), 'tcg');
});

test('a node\'s own record comes first, any running node next, then the fallback', () => {
	const both = state([qemu('node01', ['q', '-accel', 'kvm']), qemu('node02', ['q', '-accel', 'tcg'])]);
	assert.equal(runningAccel(both, 'tcg', 'node02'), 'tcg');
	assert.equal(runningAccel(both, 'tcg', 'node01'), 'kvm');
	// A stopped node has no record: the others say what the cluster runs with.
	assert.equal(runningAccel(state([qemu('node02', ['q', '-accel', 'kvm'])]), 'tcg', 'node01'), 'kvm');
	assert.equal(runningAccel(state([]), 'kvm'), 'kvm');
	assert.equal(runningAccel(state([]), 'tcg'), 'tcg');
	assert.equal(runningAccel(state([qemu('node01', ['q'])]), 'kvm'), 'kvm');
});

test('node start/restart boot with the accelerator the cluster runs with, not the cold plan\'s', async () => {
	const dir = tempDir('plasma-accel-');
	try {
		const profile = template();
		const cold = planIn(dir, profile);
		assert.equal(cold.accel, 'tcg');
		const store = await StateStore.open(cold.stateFile, profile.name, cold.workDir);
		// A live stand-in for node02's QEMU (the state file drops dead entries when opened).
		const child = spawn('sleep', ['37.5'], {stdio: 'ignore'});
		try {
			await waitFor('sleep to exec', () => fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').includes('37.5'));
			await store.recordProcess({...qemu('node02', ['qemu-system-x86_64', '-accel', 'kvm', '-cpu', 'host']), pid: child.pid, exe: ['sleep'], match: ['37.5']});
			var plan = await runningPlan(profile, cold);
		} finally {
			child.kill();
		}
		assert.equal(plan.accel, 'kvm');
		assert.ok(plan.nodes[0]!.qemuArgs.join(' ').includes('-accel kvm'));
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
