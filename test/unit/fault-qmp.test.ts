import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {applyFault} from '../../source/engine/faults.js';
import {buildPlan} from '../../source/model/plan.js';
import {nodeRunStatus, qmpAction} from '../../source/services/node-faults.js';
import {isOurProcess} from '../../source/services/processes.js';
import {nodeIdentity} from '../../source/services/qemu.js';
import {readState, StateStore} from '../../source/services/state.js';
import {readTimeline} from '../../source/services/timeline.js';
import {hostTools, skipUnless, template, tempDir} from '../helpers.js';

const skip = skipUnless(await hostTools({'qemu-system-x86_64': 'qemu-system-x86'}));

// Node faults against a real QEMU with no guest (firmware only, 64 MiB): the
// QMP commands, the state file written before and cleaned after, the quorum
// guard, a failed fault taken off the record, SIGKILL.

test('freeze/thaw, isolate/heal, kill on a real QEMU; the guard refuses what costs quorum; a failed fault is not recorded', {skip, timeout: 60_000}, async () => {
	const dir = tempDir('plasma-fq-');
	const profile = template('demo');
	profile.workDir = path.join(dir, 'w');
	const plan = buildPlan(profile, {clustersDir: dir, imageDir: dir, home: dir, accel: 'tcg'});
	const node = plan.nodes[2]!;
	fs.mkdirSync(path.dirname(node.runtime.pidfile), {recursive: true});
	const qemu = spawn('qemu-system-x86_64', ['-S', '-display', 'none', '-nodefaults', '-accel', 'tcg', '-m', '64', '-netdev', 'user,id=cluster,restrict=on', '-device', 'virtio-net-pci,netdev=cluster', '-chardev', `socket,id=qmp,path=${node.runtime.qmpSocket},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control', '-pidfile', node.runtime.pidfile], {stdio: 'ignore'});
	try {
		const deadline = Date.now() + 20_000;
		while (!fs.existsSync(node.runtime.pidfile) || !fs.existsSync(node.runtime.qmpSocket)) {
			if (Date.now() > deadline) throw new Error('QEMU did not start');
			await new Promise(resolve => setTimeout(resolve, 50));
		}
		await qmpAction(node, 'cont');
		const state = await StateStore.open(plan.stateFile, plan.profileName, plan.workDir);
		const verdicts: string[] = [];
		// Only node03 has a real QEMU; the guard is told all three run.
		const options = {state, alive: new Set(plan.nodes.map(n => n.name)), onVerdict: (v: {message: string}) => verdicts.push(v.message)};

		await applyFault(plan, {action: 'freeze', node: 'node03'}, options);
		assert.equal(await nodeRunStatus(node), 'paused');
		assert.deepEqual((await readState(plan.stateFile))?.faults?.map(f => f.kind), ['frozen']);
		assert.equal(verdicts.at(-1), 'freezing node03 leaves 2 of 3 members: quorum holds (needs 2)');

		// A second member down would cost quorum: refused, nothing recorded, nothing sent.
		await assert.rejects(applyFault(plan, {action: 'isolate', node: 'node02'}, options), /refused: isolating node02 leaves 1 of 3 members: the cluster loses quorum \(needs 2\).*--force/s);
		assert.deepEqual(state.current.faults?.map(f => f.kind), ['frozen']);
		// Forced, it is tried; node02 has no QEMU here, so it fails and is taken off the record again.
		await assert.rejects(applyFault(plan, {action: 'isolate', node: 'node02'}, {...options, force: true}), /QMP/);
		assert.deepEqual((await readState(plan.stateFile))?.faults?.map(f => f.kind), ['frozen']);

		const thawed = await applyFault(plan, {action: 'thaw'}, options);
		assert.deepEqual(thawed.done, ['thawed node03: frozen']);
		assert.equal(await nodeRunStatus(node), 'running');
		assert.equal((await readState(plan.stateFile))?.faults, undefined);

		await applyFault(plan, {action: 'isolate', node: 'node03'}, options);
		assert.deepEqual(state.current.faults?.map(f => f.kind), ['isolated']);
		assert.deepEqual((await applyFault(plan, {action: 'heal', node: 'node03'}, options)).done, ['healed node03: isolated']);

		const pid = Number(fs.readFileSync(node.runtime.pidfile, 'utf8'));
		await applyFault(plan, {action: 'kill', node: 'node03'}, options);
		assert.equal(await isOurProcess(pid, nodeIdentity(node)), false);
		assert.deepEqual(state.current.faults?.map(f => [f.kind, 'node' in f ? f.node : '']), [['killed', 'node03']]);

		const timeline = (await readTimeline(plan.timelineFile)).entries.map(e => `${e.kind} ${e.subject}: ${e.detail}`);
		assert.deepEqual(timeline, [
			'fault node03: frozen (QMP stop)',
			'heal node03: thawed: node03: frozen',
			'fault node03: isolated (cluster NIC link down)',
			'heal node03: healed: node03: isolated',
			'fault node03: killed (SIGKILL of its QEMU)',
		]);
	} finally {
		qemu.kill('SIGKILL');
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
