import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {rehearse} from '../../source/engine/rehearse.js';
import {buildPlan} from '../../source/model/plan.js';
import {parseScenario} from '../../source/model/scenario.js';
import {nodeRunStatus} from '../../source/services/node-faults.js';
import {readState} from '../../source/services/state.js';
import {firmwareQemu} from '../firmware-qemu.js';
import {hostTools, skipUnless, template, tempDir} from '../helpers.js';

const skip = skipUnless(await hostTools({'qemu-system-x86_64': 'qemu-system-x86'}));

// Ctrl-C during a rehearsal: the step waiting for SSH ends at once (not after
// its 30 s SSH wait), the rest is not run, and the fault it applied is undone.
// node03 is a real QEMU with no guest; node01's SSH port is a listener that
// never says anything, so the SSH wait would go on for its whole timeout.

test('an interrupted rehearsal stops its SSH wait at once and thaws what it froze', {skip, timeout: 60_000}, async t => {
	const dir = tempDir('plasma-ri-');
	const silent = net.createServer(() => undefined);
	await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve));
	const profile = template('demo');
	profile.workDir = path.join(dir, 'w');
	profile.network.sshPortBase = (silent.address() as net.AddressInfo).port;
	const plan = buildPlan(profile, {clustersDir: dir, imageDir: dir, home: dir, accel: 'tcg'});
	t.after(() => {
		silent.close();
		fs.rmSync(dir, {recursive: true, force: true});
	});
	const qemu = await firmwareQemu(plan.nodes[2]!);
	// Also when the test times out: a QEMU left behind keeps the test process alive.
	t.after(() => void qemu.kill('SIGKILL'));
	const parsed = parseScenario({version: 1, name: 'interrupted', steps: [{fault: 'freeze node03'}, {run: 'true', on: 'node01', within: 60}, {wait: 1}]}, plan.nodes.map(n => n.name));
	assert.ok(parsed.ok, JSON.stringify(parsed));
	const controller = new AbortController();
	const lines: string[] = [];
	const started = Date.now();
	let abortedAt = 0;
	const report = await rehearse(profile, plan, parsed.scenario, {
		force: true,
		signal: controller.signal,
		onLine: line => {
			lines.push(line);
			if (line.startsWith('step 2:')) {
				setTimeout(() => {
					abortedAt = Date.now();
					controller.abort(new Error('interrupted (Ctrl-C)'));
				}, 1000);
			}
		},
	});
	const afterAbortMs = Date.now() - abortedAt;
	assert.ok(abortedAt > 0, lines.join('\n'));
	assert.ok(afterAbortMs < 5000, `the rehearsal ended ${afterAbortMs} ms after Ctrl-C (took ${Date.now() - started} ms in all)`);
	assert.deepEqual(report.steps.map(s => s.status), ['ok', 'failed', 'not-run']);
	assert.match(report.steps[1]!.detail, /interrupted/);
	assert.equal(report.steps[2]!.detail, 'interrupted');
	assert.equal(report.ok, false);
	assert.equal(report.leftActive, 0);
	assert.ok(lines.includes('cleanup: thawed node03: frozen'), lines.join('\n'));
	assert.equal(await nodeRunStatus(plan.nodes[2]!), 'running');
	assert.equal((await readState(plan.stateFile))?.faults, undefined);
});
