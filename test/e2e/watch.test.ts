import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import type {Plan} from '../../source/model/plan.js';
import {ensureDemoImage} from '../../source/services/image.js';
import {readState} from '../../source/services/state.js';
import {readTimeline} from '../../source/services/timeline.js';
import {timelineRuns} from '../../source/model/timeline-runs.js';
import {teardown} from '../../source/services/teardown.js';
import {tempDir} from '../helpers.js';
import {demoProfileIn, processesOf, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = await vmSkip();

// Watch mode and the timeline against a real 3-member etcd: the leader's QEMU
// is killed (a plain SIGKILL of the pid in the state file) while `watch` runs;
// its output must show that node's checks going to failed and a new leader,
// and the timeline must hold the same transitions and the leader change.

const bin = path.resolve('dist/cli.js');
const home = tempDir('plasma-watch-e2e-');
const env = {...process.env, PLASMA_TUI_HOME: home, PLASMA_TUI_IMAGE_DIR: sharedImageDir};
let plan: Plan | undefined;
let profileFile: string;

function cli(args: string[], timeout = 600_000) {
	return execa(process.execPath, [bin, ...args], {env, reject: false, timeout, all: true});
}

before(async () => {
	if (skip) return;
	await ensureDemoImage(sharedImageDir, {});
	({plan, profileFile} = await demoProfileIn(home, 'e2ewatch', profile => {
		// The checks a leader loss touches; persistence and the rest are covered by demo-flow.
		profile.checks = profile.checks.filter(c => ['ssh', 'l2-mesh', 'tcp-port', 'raft-quorum', 'crud'].includes(c.type));
	}));
});

after(async () => {
	if (plan) await teardown(plan, {graceMs: 500, purge: true}).catch(() => undefined);
	fs.rmSync(home, {recursive: true, force: true});
});

test('watch shows the checks of a killed leader going to failed and the new leader; the timeline records both', {timeout: 900_000, skip}, async () => {
	const up = await cli(['up', '--profile-file', profileFile, '--yes']);
	assert.equal(up.exitCode, 0, up.all);
	assert.match(up.all ?? '', /check raft-quorum :2379: ok \(3 members, leader \d+, 3 of 3 answering\) \[leader node0\d, term \d+, members 3\]/);
	const upRun = await readTimeline(plan!.timelineFile);
	assert.equal(upRun.entries[0]?.kind, 'run');
	assert.ok(upRun.entries.some(e => e.kind === 'node-phase' && e.node === 'node01' && e.from === 'validating' && e.to === 'healthy'), 'up records node phases');

	const watching = cli(['watch', '--profile-file', profileFile, '--interval', '2', '--for', '75'], 300_000);
	let output = '';
	watching.all!.on('data', (chunk: Buffer) => (output += chunk.toString()));
	const waitFor = async (pattern: RegExp, what: string, ms = 120_000) => {
		const deadline = Date.now() + ms;
		while (!pattern.test(output)) {
			if (Date.now() > deadline) assert.fail(`no ${what} within ${ms / 1000} s in:\n${output}`);
			await new Promise(resolve => setTimeout(resolve, 200));
		}
		return pattern.exec(output)!;
	};
	const leader = (await waitFor(/^\d\d:\d\d:\d\d cluster leader: (node0\d) \(raft-quorum :2379\)$/m, 'the first leader'))[1]!;
	await waitFor(/round 1: \d+ ok, 0 failed/, 'a green first round');

	const state = await readState(plan!.stateFile);
	const qemu = state?.processes.find(p => p.kind === 'qemu' && p.node === leader);
	assert.ok(qemu?.pid, `the state file names ${leader}'s QEMU`);
	const killedAt = Date.now();
	process.kill(qemu.pid, 'SIGKILL');

	await waitFor(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${leader} ssh: ok -> failed: `, 'm'), `${leader}'s ssh check failing`);
	const failedAfter = Date.now() - killedAt;
	const change = await waitFor(new RegExp(`^\\d\\d:\\d\\d:\\d\\d cluster leader: ${leader} -> (node0\\d) \\(raft-quorum :2379\\)$`, 'm'), 'a new leader');
	const next = change[1]!;
	assert.notEqual(next, leader);
	const result = await watching;
	output = result.all ?? output;
	// The dead node's checks stay failed: the last round is not green.
	assert.equal(result.exitCode, 1, output);
	assert.match(output, new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${leader} etcd client port: ok -> failed`, 'm'));
	assert.match(output, /^\d\d:\d\d:\d\d cluster term: \d+ -> \d+ \(raft-quorum :2379\)$/m);
	// Transitions, not repeats: the dead node's ssh failure is printed once in ~35 rounds.
	assert.equal(output.match(new RegExp(`${leader} ssh: `, 'g'))?.length, 2, output);
	const rounds = Number(/watch ended after (\d+) rounds/.exec(output)?.[1]);
	assert.ok(rounds >= 6, `a dead node must not stall the rounds: ${rounds} rounds in 75 s\n${output}`);
	console.log(`# ${leader} killed: its ssh check failed after ${failedAfter} ms; new leader ${next}; ${rounds} rounds in 75 s`);

	const {entries} = await readTimeline(plan!.timelineFile);
	const last = timelineRuns(entries).at(-1)!;
	assert.equal(last.start?.detail, 'plasma-tui watch');
	const watchRun = last.entries;
	assert.ok(watchRun.some(e => e.kind === 'check' && e.node === leader && e.subject === 'ssh' && e.from === 'ok' && e.to === 'failed'), JSON.stringify(watchRun, null, 1));
	assert.ok(watchRun.some(e => e.kind === 'fact' && e.subject === 'leader' && e.from === leader && e.to === next));
	assert.ok(watchRun.some(e => e.kind === 'fact' && e.subject === 'answers-ssh' && e.node === leader && e.to === 'no'));

	const shown = await cli(['timeline', '--profile-file', profileFile], 30_000);
	assert.equal(shown.exitCode, 0, shown.all);
	assert.match(shown.stdout, new RegExp(`fact leader ${leader} -> ${next}`));
	const all = await cli(['timeline', '--profile-file', profileFile, '--run', 'all'], 30_000);
	assert.match(all.stdout, /run: plasma-tui up \(e2ewatch\)/);

	// The kill here is a plain SIGKILL, not a fault: none may be on record (a fault left active is a failure).
	assert.deepEqual((await readState(plan!.stateFile))?.faults ?? [], []);
	await teardown(plan!, {graceMs: 500});
	assert.deepEqual(await processesOf(plan!), []);
});
