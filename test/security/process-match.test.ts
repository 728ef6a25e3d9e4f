// Issue 9, point 11. On main before this, a process counted as ours when its command line
// contained the work directory as a substring: `down` of /srv/c stopped a QEMU of the nested
// work directory /srv/c/x, and anything whose argv[0] read "qemu-system-x86_64" (whatever
// binary it really ran) with such a path; a recorded process it could not signal (EPERM)
// was reported as stopped, or not at all, and `down` exited 0.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import {chownSync, existsSync, readFileSync, readlinkSync, writeFileSync} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {QEMU_BINARY} from '../../source/model/plan.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {readState, type ProcessEntry} from '../../source/services/state.js';
import {teardown} from '../../source/services/teardown.js';
import {assertProcessGone, isAlive, hostTools, planIn, skipUnless, template, tempDir, waitFor} from '../helpers.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function planFor(workDir: string) {
	const profile = template();
	profile.workDir = workDir;
	return {profile, plan: planIn(path.dirname(workDir), profile)};
}

const qemuSkip = skipUnless(await hostTools({[QEMU_BINARY]: 'qemu-system-x86'}));

test('down of /c never touches a QEMU of the nested work directory /c/x, nor a process that only calls itself QEMU', {skip: qemuSkip, timeout: 60_000}, async () => {
	const home = tempDir('plasma-nested-');
	const outer = planFor(path.join(home, 'c')).plan;
	const inner = planFor(path.join(home, 'c', 'x')).plan;
	const innerPidfile = inner.nodes[0]!.runtime.pidfile;
	await fs.mkdir(path.dirname(innerPidfile), {recursive: true, mode: 0o700});
	const children: ChildProcess[] = [];
	try {
		// A real QEMU (no machine, paused) of the nested work directory.
		const qemu = spawn(QEMU_BINARY, ['-machine', 'none', '-nodefaults', '-display', 'none', '-S', '-pidfile', innerPidfile], {stdio: 'ignore', detached: true});
		children.push(qemu);
		// A shell that calls itself QEMU, with the outer work directory's own pidfile path in its argv.
		const outerPidfile = outer.nodes[0]!.runtime.pidfile;
		const impostor = spawn('sh', ['-c', 'sleep 300; :', '-pidfile', outerPidfile], {stdio: 'ignore', detached: true, argv0: QEMU_BINARY});
		children.push(impostor);
		await waitFor('the nested QEMU to write its pidfile', () => existsSync(innerPidfile) && readFileSync(innerPidfile, 'utf8').trim() !== '', 20_000);
		assert.equal(readFileSync(`/proc/${impostor.pid}/cmdline`, 'utf8').split('\0')[0], QEMU_BINARY);

		const report = await teardown(outer, {graceMs: 500});
		assert.deepEqual(report.stopped, [], 'nothing of /c was running');
		assert.deepEqual(report.notStopped, []);
		assert.ok(isAlive(qemu.pid!), 'the nested QEMU still runs');
		assert.ok(isAlive(impostor.pid!), 'a process that only calls itself QEMU is not signalled');

		// The nested work directory's own down finds its QEMU, even without its pidfile.
		await fs.rm(innerPidfile);
		const qemuExe = readlinkSync(`/proc/${qemu.pid}/exe`);
		const innerReport = await teardown(inner, {graceMs: 500});
		assert.deepEqual(innerReport.stopped, [`pid ${qemu.pid} (${qemuExe}, terminated)`]);
		await assertProcessGone(qemu.pid!);
		assert.ok(isAlive(impostor.pid!));
	} finally {
		// Detached: each leads its group (the impostor's sleep is in it too).
		for (const child of children) {
			try {
				process.kill(-child.pid!, 'SIGKILL');
			} catch {
				// already gone
			}
		}
		await fs.rm(home, {recursive: true, force: true});
	}
});

const rootSkip = skipUnless([
	{missing: process.getuid?.() !== 0 && 'not running as root', fix: 'run the tests as root (CI does)'},
	...(await hostTools({setpriv: 'util-linux'})),
]);

test('a recorded process down cannot signal is reported as not stopped, and down exits 1; pid 1 recorded is never reported as stopped', {skip: rootSkip, timeout: 90_000}, async () => {
	const home = tempDir('plasma-eperm-');
	const {profile, plan} = planFor(path.join(home, 'w'));
	// A tool of the run started as root (`up` under sudo); `down` runs as another user.
	const sleeper = spawn('sleep', ['300'], {stdio: 'ignore', detached: true});
	try {
		await waitFor('sleep to run', () => isAlive(sleeper.pid!) && readFileSync(`/proc/${sleeper.pid}/cmdline`, 'utf8').startsWith('sleep'));
		const entry = (patch: Partial<ProcessEntry>): ProcessEntry => ({kind: 'nix', argv: [], exe: [], match: [], sockets: [], ports: [], startedAt: new Date().toISOString(), status: 'running', ...patch});
		await fs.mkdir(plan.workDir, {recursive: true, mode: 0o700});
		writeFileSync(
			plan.stateFile,
			JSON.stringify({
				version: 1,
				profile: profile.name,
				workDir: plan.workDir,
				nodes: {},
				updatedAt: '',
				processes: [
					entry({kind: 'nixos-anywhere', node: 'node01', pid: sleeper.pid, pgid: sleeper.pid, argv: ['/usr/bin/sleep', '300'], exe: ['/usr/bin/sleep'], match: ['300']}),
					// pid 1 is never ours, whatever a state file says.
					entry({kind: 'nix', pid: 1, pgid: 1, argv: ['nix', 'build'], exe: ['nix'], match: ['build']}),
					entry({kind: 'qemu', node: 'node02', pid: 1, argv: [QEMU_BINARY], exe: [QEMU_BINARY], match: ['-pidfile', plan.nodes[1]!.runtime.pidfile]}),
				],
			}),
			{mode: 0o600},
		);
		const profileFile = path.join(home, 'p.json');
		await writeProfileFile(profileFile, profile);
		for (const file of [home, plan.workDir, plan.stateFile, profileFile]) chownSync(file, 65534, 65534);

		const down = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', 'source/cli.tsx', 'down', '--profile-file', profileFile], {
			cwd: root,
			env: {PLASMA_TUI_HOME: home, HOME: home, PATH: process.env.PATH},
			reject: false,
			timeout: 60_000,
		});
		assert.equal(down.exitCode, 1, down.stdout + down.stderr);
		assert.ok(down.stderr.includes(`not stopped nixos-anywhere node01 (pid ${sleeper.pid}): not stopped: EPERM`), down.stderr);
		assert.doesNotMatch(down.stdout, /^stopped /m);
		assert.ok(isAlive(sleeper.pid!), 'it really still runs');
		// Kept on record for a `down` that can stop it.
		assert.deepEqual((await readState(plan.stateFile))?.processes.map(p => p.pid), [sleeper.pid]);

		// As root, the same down stops it (once the work directory is root's again: down refuses another user's).
		await execa('chown', ['-R', '0:0', home]);
		const again = await execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'down', '--profile-file', profileFile], {cwd: root, env: {PLASMA_TUI_HOME: home, HOME: home, PATH: process.env.PATH}, reject: false, timeout: 60_000});
		assert.equal(again.exitCode, 0, again.stdout + again.stderr);
		assert.match(again.stdout, new RegExp(`^stopped nixos-anywhere node01 \\(pid ${sleeper.pid}\\) \\(terminated\\)$`, 'm'));
		assert.doesNotMatch(again.stdout, /pid 1\b/);
		await assertProcessGone(sleeper.pid!);
	} finally {
		sleeper.kill('SIGKILL');
		await fs.rm(home, {recursive: true, force: true});
	}
});
