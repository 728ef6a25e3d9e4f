import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {applyFault} from '../../source/engine/faults.js';
import {buildPlan} from '../../source/model/plan.js';
import type {RunEvent} from '../../source/model/events.js';
import {EMPTY_CHECK_MEMORY, timelineEntriesOf} from '../../source/model/timeline-record.js';
import {nodeRunStatus} from '../../source/services/node-faults.js';
import {isOurProcess} from '../../source/services/processes.js';
import {nodeIdentity} from '../../source/services/qemu.js';
import {readState, StateStore} from '../../source/services/state.js';
import {readTimeline} from '../../source/services/timeline.js';
import {firmwareQemu} from '../firmware-qemu.js';
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
	const qemu = await firmwareQemu(node);
	try {
		const state = await StateStore.open(plan.stateFile, plan.profileName, plan.workDir);
		const verdicts: string[] = [];
		// Only node03 has a real QEMU; the guard is told all three run.
		const events: RunEvent[] = [];
		const options = {state, alive: new Set(plan.nodes.map(n => n.name)), onVerdict: (v: {message: string}) => verdicts.push(v.message), onEvent: (e: RunEvent) => events.push(e)};

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
		// The same, once each, as the engine's events (log lines: no timeline recorder writes them again).
		assert.deepEqual(
			events.map(e => (e.type === 'log' ? `${e.level} ${e.node}: ${e.message}` : e.type)),
			['warn node03: fault: frozen (QMP stop)', 'info node03: fault undone: thawed: node03: frozen', 'warn node03: fault: isolated (cluster NIC link down)', 'info node03: fault undone: healed: node03: isolated', 'warn node03: fault: killed (SIGKILL of its QEMU)'],
		);
		assert.deepEqual(timelineEntriesOf(EMPTY_CHECK_MEMORY, events[0]!).entries, []);
	} finally {
		qemu.kill('SIGKILL');
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
