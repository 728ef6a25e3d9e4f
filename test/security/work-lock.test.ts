// Issue 9, point 5. Fails on main before the lock: two `up`s (or `down` during an `up`) of one
// profile ran at once; nothing refused the second caller.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import {execa} from 'execa';
import {buildPlan} from '../../source/model/plan.js';
import path from 'node:path';
import {acquireWorkLock, processStartTime, readLockHolder, WorkLockBusy} from '../../source/services/work-lock.js';
import {tempDir, template} from '../helpers.js';

test('a second holder of a work directory lock is refused and told who holds it', async () => {
	const file = path.join(tempDir(), 'lock');
	const first = await acquireWorkLock(file, 'up');
	await assert.rejects(acquireWorkLock(file, 'down'), (error: unknown) => {
		assert.ok(error instanceof WorkLockBusy);
		assert.match(error.message, new RegExp(`in use by \`plasma-tui up\` \\(pid ${process.pid}, since `));
		assert.match(error.problem.fix ?? "", new RegExp(`kill ${process.pid}`));
		return true;
	});
	await first.release();
	const second = await acquireWorkLock(file, 'down');
	assert.equal((await readLockHolder(file))?.command, 'down');
	await second.release();
	assert.equal(existsSync(file), false);
});

test('a lock left by a process that has ended is taken over; a reused pid does not count as the holder', async () => {
	const dir = tempDir();
	const child = spawn(process.execPath, ['-e', '0']);
	const pid = child.pid!;
	const startTime = await processStartTime(pid);
	await new Promise(resolve => child.on('exit', resolve));
	const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
	const dead = path.join(dir, 'dead.lock');
	writeFileSync(dead, JSON.stringify({pid, startTime: startTime ?? '1', bootId, command: 'up', since: 'earlier'}));
	const taken = await acquireWorkLock(dead, 'up');
	assert.equal((await readLockHolder(dead))?.pid, process.pid);
	await taken.release();

	// Our own pid, but another start time: the pid was reused, the lock is stale.
	const reused = path.join(dir, 'reused.lock');
	writeFileSync(reused, JSON.stringify({pid: process.pid, startTime: '1', bootId, command: 'up', since: 'earlier'}));
	await (await acquireWorkLock(reused, 'validate')).release();

	// A lock from before the last reboot is stale whatever its pid.
	const rebooted = path.join(dir, 'rebooted.lock');
	writeFileSync(rebooted, JSON.stringify({pid: process.pid, startTime: await processStartTime(process.pid), bootId: 'another-boot', command: 'up', since: 'earlier'}));
	await (await acquireWorkLock(rebooted, 'certs')).release();
});

test('the lock never writes through a symlink planted where it goes', async () => {
	const dir = tempDir();
	const target = path.join(dir, 'victim.txt');
	writeFileSync(target, 'keep me\n');
	const file = path.join(dir, 'lock');
	symlinkSync(target, file);
	await assert.rejects(acquireWorkLock(file, 'up'), /lock .*\/lock is a symlink, not a lock/);
	assert.equal(readFileSync(target, 'utf8'), 'keep me\n');
});

test('releasing a lock someone else took over leaves theirs in place', async () => {
	const file = path.join(tempDir(), 'lock');
	const mine = await acquireWorkLock(file, 'up');
	const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
	writeFileSync(file, JSON.stringify({pid: 1, startTime: await processStartTime(1), bootId, command: 'up', since: 'now'}));
	await mine.release();
	assert.equal((await readLockHolder(file))?.pid, 1);
});

test('up, down, certs and validate of a profile another run holds are refused, naming the holder, and touch nothing', async () => {
	const home = tempDir();
	const profile = template();
	profile.name = 'locked';
	const file = path.join(home, 'locked.json');
	writeFileSync(file, JSON.stringify(profile));
	const cliPlan = buildPlan(profile, {clustersDir: path.join(home, 'clusters'), imageDir: path.join(home, 'image'), home});
	mkdirSync(cliPlan.workDir, {recursive: true});
	const held = await acquireWorkLock(cliPlan.lockFile, 'up');
	try {
		for (const args of [['certs'], ['down'], ['down', '--purge', '--yes'], ['validate', '--timeout', '1'], ['up', '--yes']]) {
			const result = await execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', ...args, '--profile-file', file], {env: {...process.env, PLASMA_TUI_HOME: home}, reject: false});
			assert.equal(result.exitCode, 1, `${args.join(' ')}: ${result.stderr}`);
			assert.match(result.stderr, new RegExp(`plasma-tui ${args[0]}: the work directory is in use by \`plasma-tui up\` \\(pid ${process.pid}, since `));
		}
		assert.equal(existsSync(cliPlan.tls.caKey), false, 'certs wrote a CA key while another run held the lock');
		assert.equal(existsSync(cliPlan.workDir), true, 'down --purge removed the work directory of a running up');
	} finally {
		await held.release();
	}
});
