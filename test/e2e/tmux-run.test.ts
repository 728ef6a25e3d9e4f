import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa, execaSync} from 'execa';
import {hostTools, skipUnless, tempDir} from '../helpers.js';
import {tmuxDriver} from './tmux-driver.js';
import {demoProfileIn, portFree, processesOf, sharedImageDir, vmSkip} from './vm-helpers.js';

const skip = (await vmSkip()) || skipUnless(await hostTools({tmux: 'tmux'}));

// A person at the terminal: the built binary in tmux goes from the wizard's
// topology step through the plan into a real run of 3 VMs, watches it end
// green on the checklist, types into a node's serial console, and quits.

const session = `plasma-run-${process.pid}`;
const home = tempDir('plasma-tmux-run-');
const bin = path.resolve('dist/cli.js');
let workPlan: Awaited<ReturnType<typeof demoProfileIn>>['plan'] | undefined;

const {waitForScreen, keys} = tmuxDriver(() => session, 150);

after(async () => {
	execaSync('tmux', ['kill-session', '-t', session], {reject: false});
	if (workPlan) await execa(process.execPath, [bin, 'down', '--profile', 'tmuxrun', '--purge', '--yes'], {env: {...process.env, PLASMA_TUI_HOME: home}, reject: false});
	fs.rmSync(home, {recursive: true, force: true});
});

test('the TUI runs the plan for real: panes, a green checklist, typing into a console, quit leaves the cluster up', {timeout: 600_000, skip}, async () => {
	const {plan, profileFile} = await demoProfileIn(home, 'tmuxrun');
	workPlan = plan;
	await execa('tmux', ['new-session', '-d', '-s', session, '-x', '140', '-y', '45', '-e', `PLASMA_TUI_HOME=${home}`, '-e', `PLASMA_TUI_IMAGE_DIR=${sharedImageDir}`, process.execPath, bin, 'tui', '--profile-file', profileFile]);
	// Keep the pane after the binary exits, to read what it prints last.
	await execa('tmux', ['set-option', '-t', session, 'remain-on-exit', 'on']);
	await waitForScreen('step 2/6: topology');
	await keys('Up', 'Enter');
	await waitForScreen('step 3/6: network');
	// From the subnet down past the three nodes to Next.
	await keys('Down', 'Down', 'Down', 'Down', 'Enter');
	await waitForScreen('step 4/6: certificates');
	await keys('Down', 'Down', 'Down', 'Down', 'Down', 'Enter');
	await waitForScreen('step 5/6: checks');
	// Down once per check of the profile reaches Next.
	await keys(...Array.from({length: plan.checks.length}, () => 'Down'), 'Enter');
	await waitForScreen('step 6/6: plan');
	await keys('Enter');

	// The run: node panes first, then the checklist once validation ends.
	let shown = await waitForScreen(/node01 +(booting|console|ssh-ready|installing)/, 60_000);
	assert.match(shown, /node03 /);
	shown = await waitForScreen(/Checks: (\d+) ok · 0 failed · 0 waiting, of \1\b/, 300_000);
	assert.match(shown, /✓ preflight +✓ image +✓ certificates +✓ boot +✓ install +✓ validate/);
	assert.match(shown, /raft-quorum :2379 +✓ ok/);
	assert.match(shown, /done: every stage passed; the cluster keeps running/);

	// The consoles: zoom node01, type a command into its serial console, see the shell answer.
	await keys('c', 'z', 'i');
	await execa('tmux', ['send-keys', '-t', session, '-l', 'echo typed-$((20+3))']);
	await keys('Enter');
	shown = await waitForScreen(/^┃typed-23 +┃$/m, 30_000);
	await keys('C-]', 'q');
	await waitForScreen('Quit? The cluster "tmuxrun" keeps running.');
	await keys('y');
	await waitForScreen(/Profile "tmuxrun" saved\. The cluster keeps running/);

	// Quitting after a finished run leaves the cluster up; down then stops all of it.
	assert.equal((await processesOf(plan)).length, 4);
	const down = await execa(process.execPath, [bin, 'down', '--profile', 'tmuxrun', '--purge', '--yes'], {env: {...process.env, PLASMA_TUI_HOME: home}, reject: false});
	assert.equal(down.exitCode, 0, down.stderr);
	assert.deepEqual(await processesOf(plan), []);
	for (const node of plan.nodes) assert.ok(await portFree(node.sshPort));
});
