// Issue 9, point 6. On main before this, nixos-anywhere ran in its own session and was
// stopped only from the `exit` handler: a SIGHUP (a dropped SSH session to the host) or a
// SIGKILL of plasma-tui left it and its children running with the node's keys staged, the
// state file knew nothing of it, and `down` stopped only QEMU and vde_switch.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync, readlinkSync, statSync} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {execa, type ResultPromise} from 'execa';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {readState} from '../../source/services/state.js';
import {assertProcessGone, isAlive, tempDir, waitFor} from '../helpers.js';
import {childPlan, childProfile} from './install-child.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const home = tempDir('plasma-hangup-');
const bin = path.join(home, 'bin');
const record = path.join(home, 'record');
const plan = childPlan(home);
const node = plan.nodes[0]!;
const install = node.install.method === 'nixos-anywhere' ? node.install : assert.fail('the template installs with nixos-anywhere');

// A stand-in nixos-anywhere: starts a long child, says where it is, and waits.
const standIn = `#!/bin/sh
echo "### Uploading install SSH keys ###"
sleep 300 &
echo $! > "$STANDIN_RECORD.child"
echo hanging
wait
`;

before(async () => {
	await writeArtifacts(plan);
	await fs.mkdir(bin);
	await fs.writeFile(path.join(bin, 'nixos-anywhere'), standIn, {mode: 0o755});
});

// Starts the install in its own process; resolves once nixos-anywhere runs, is recorded and holds its child.
async function startInstall(): Promise<{child: ResultPromise; leader: number; sleeper: number}> {
	await fs.rm(`${record}.child`, {force: true});
	const child = execa(process.execPath, ['--import', 'tsx', path.join(root, 'test/security/install-child.ts'), home], {
		cwd: root,
		env: {PATH: `${bin}:${process.env.PATH}`, STANDIN_RECORD: record},
		reject: false,
		all: true,
	});
	let leader: number | undefined;
	await waitFor(
		'nixos-anywhere to run, recorded with its pid',
		() => {
			if (!existsSync(`${record}.child`) || readFileSync(`${record}.child`, 'utf8').trim() === '') return false;
			try {
				const entry = (JSON.parse(readFileSync(plan.stateFile, 'utf8')) as {processes: Array<{kind: string; pid?: number}>}).processes.find(p => p.kind === 'nixos-anywhere');
				leader = entry?.pid;
			} catch {
				return false;
			}
			return leader !== undefined;
		},
		30_000,
	);
	return {child, leader: leader!, sleeper: Number(readFileSync(`${record}.child`, 'utf8'))};
}

test('nixos-anywhere is in the state file while it runs (pid, group, argv, exe) and its keys are staged 0700', {timeout: 60_000}, async () => {
	const {child, leader, sleeper} = await startInstall();
	try {
		const entry = (await readState(plan.stateFile))?.processes.find(p => p.kind === 'nixos-anywhere');
		assert.ok(entry);
		assert.equal(entry.node, node.name);
		assert.equal(entry.pgid, leader, 'it leads its own process group');
		assert.deepEqual(entry.argv, [path.join(bin, 'nixos-anywhere'), ...install.argv]);
		// The script itself and its interpreter: /proc/<pid>/exe of a `#!/bin/sh` script is the shell.
		assert.ok(entry.exe.includes(path.join(bin, 'nixos-anywhere')), entry.exe.join(', '));
		const running = path.basename(readlinkSync(`/proc/${leader}/exe`));
		assert.ok(entry.exe.some(exe => path.basename(exe) === running), `${running} not in ${entry.exe.join(', ')}`);
		assert.equal(statSync(install.extraFilesDir).mode & 0o777, 0o700, 'the staging directory holding the keys');
		assert.ok(isAlive(sleeper));
	} finally {
		child.kill('SIGTERM');
		await child;
	}
	await assertProcessGone(leader);
	await assertProcessGone(sleeper);
	assert.equal(existsSync(install.extraFilesDir), false);
});

test('SIGHUP to plasma-tui stops nixos-anywhere and its child, removes the staged keys and the record', {timeout: 60_000}, async () => {
	const {child, leader, sleeper} = await startInstall();
	child.kill('SIGHUP');
	const result = await child;
	const output = String(result.all ?? '');
	assert.equal(result.exitCode, 130, output);
	assert.match(output, /install ended: nixos-anywhere cancelled/);
	await assertProcessGone(leader);
	await assertProcessGone(sleeper);
	assert.equal(existsSync(install.extraFilesDir), false, 'the extra-files staging is removed');
	assert.deepEqual((await readState(plan.stateFile))?.processes.filter(p => p.kind === 'nixos-anywhere'), []);
});

test('after a SIGKILL of plasma-tui, `down` stops the recorded nixos-anywhere and its child and removes the staged keys', {timeout: 90_000}, async () => {
	const {child, leader, sleeper} = await startInstall();
	child.kill('SIGKILL');
	await child;
	// Nothing of the tool is left to stop them: they run on, with the keys on disk.
	assert.ok(isAlive(leader) && isAlive(sleeper), 'the stand-in and its child outlive a SIGKILL of the tool');
	assert.ok(existsSync(install.extraFilesDir));

	const profileFile = path.join(home, 'hangup.json');
	await writeProfileFile(profileFile, childProfile(home));
	const down = await execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'down', '--profile-file', profileFile], {cwd: root, env: {PLASMA_TUI_HOME: home}, reject: false, timeout: 60_000});
	assert.equal(down.exitCode, 0, down.stdout + down.stderr);
	assert.match(down.stdout, new RegExp(`stopped nixos-anywhere node01 \\(pid ${leader}\\) \\((terminated|killed)\\)`));
	assert.ok(down.stdout.includes(`removed ${install.extraFilesDir}`), down.stdout);
	await assertProcessGone(leader);
	await assertProcessGone(sleeper);
	assert.equal(existsSync(install.extraFilesDir), false);
	assert.deepEqual((await readState(plan.stateFile))?.processes, []);
});
