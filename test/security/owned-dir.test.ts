// Issue 9, points 1 and 2. On main before this, teardown removed whatever workDir pointed at,
// and a work directory another user pre-created (or a symlink) was used as found.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {ensureOwnedDir, OWNED_MARKER, removeOwnedDir, UnsafeDirError} from '../../source/services/owned-dir.js';
import {skipUnless, tempDir} from '../helpers.js';

test('a directory the tool makes is 0700 and marked; only a marked directory is removed', async () => {
	const dir = path.join(tempDir(), 'a', 'work');
	await ensureOwnedDir(dir);
	assert.equal(statSync(dir).mode & 0o777, 0o700);
	assert.ok(existsSync(path.join(dir, OWNED_MARKER)));
	assert.equal(await removeOwnedDir(dir), 'removed');
	assert.equal(existsSync(dir), false);
	assert.equal(await removeOwnedDir(dir), 'absent');
});

test("a folder of the operator's is never marked or removed", async () => {
	const home = tempDir();
	writeFileSync(path.join(home, 'thesis.tex'), 'years of work\n');
	await assert.rejects(ensureOwnedDir(home), (error: unknown) => error instanceof UnsafeDirError && /was not made by plasma-tui \(it holds thesis\.tex\)/.test(error.message));
	const outcome = await removeOwnedDir(home);
	assert.ok(typeof outcome === 'object' && /has no \.plasma-tui-owned marker/.test(outcome.refused));
	assert.equal(readFileSync(path.join(home, 'thesis.tex'), 'utf8'), 'years of work\n');
	// An empty folder, or one holding only what the tool makes (an older version's work directory), is adopted.
	const older = tempDir();
	writeFileSync(path.join(older, 'state.json'), '{}');
	await ensureOwnedDir(older, {adoptable: ['state.json', 'tls']});
	assert.ok(existsSync(path.join(older, OWNED_MARKER)));
});

test('a symlinked or group/world-writable work directory is refused with the path and the fix', async () => {
	const base = tempDir();
	const real = path.join(base, 'real');
	mkdirSync(real, {mode: 0o700});
	const link = path.join(base, 'link');
	symlinkSync(real, link);
	await assert.rejects(ensureOwnedDir(link), (error: unknown) => error instanceof UnsafeDirError && error.problem.message === `${link} is a symlink`);
	assert.equal(typeof (await removeOwnedDir(link)), 'object');
	assert.ok(existsSync(real));

	const shared = path.join(base, 'shared');
	mkdirSync(shared);
	chmodSync(shared, 0o777);
	await assert.rejects(ensureOwnedDir(shared), (error: unknown) => error instanceof UnsafeDirError && /writable by everyone \(mode 777\)/.test(error.message) && /chmod go-w/.test(error.problem.fix ?? ""));
});

test('a directory owned by another user is refused', {skip: skipUnless([{missing: process.getuid?.() !== 0 && 'not running as root', fix: 'run the tests as root (CI does)'}])}, async () => {
	const dir = path.join(tempDir(), 'theirs');
	mkdirSync(dir, {mode: 0o700});
	const {chownSync} = await import('node:fs');
	chownSync(dir, 65534, 65534);
	await assert.rejects(ensureOwnedDir(dir), (error: unknown) => error instanceof UnsafeDirError && /is owned by uid 65534, not by you/.test(error.message));
});
