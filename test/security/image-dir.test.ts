// Issue 9, point 1: on main before this, building the demo image removed $PLASMA_TUI_IMAGE_DIR (and
// its staging directory) with `rm -rf`, whatever they held.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {ensureDemoImage} from '../../source/services/image.js';
import {OWNED_MARKER, UnsafeDirError} from '../../source/services/owned-dir.js';
import {tempDir} from '../helpers.js';

// Stands in for image/build-image.sh: writes what it writes, in a second.
function standIn(dir: string): string {
	const script = path.join(dir, 'stand-in-build.sh');
	writeFileSync(script, 'mkdir -p "$1" && echo kernel > "$1/vmlinuz" && echo initrd > "$1/initrd.img" && echo "kernel stand-in" > "$1/versions.txt"\n');
	return script;
}

test('an image directory without the marker that holds anything else is not deleted by a build', async () => {
	const dir = tempDir('plasma-image-');
	const imageDir = path.join(dir, 'image');
	mkdirSync(imageDir);
	writeFileSync(path.join(imageDir, 'thesis.tex'), 'years of work\n');
	writeFileSync(path.join(imageDir, 'vmlinuz'), 'old');
	await assert.rejects(ensureDemoImage(imageDir, {rebuild: true, buildScript: standIn(dir)}), (error: unknown) => error instanceof UnsafeDirError && /was not made by plasma-tui \(it holds thesis\.tex\)/.test(error.message));
	assert.equal(readFileSync(path.join(imageDir, 'thesis.tex'), 'utf8'), 'years of work\n');
	assert.equal(existsSync(`${imageDir}.building`), false, 'nothing was built');
});

test("a staging directory without the marker is not deleted either; an earlier version's image cache is adopted and replaced", async () => {
	const dir = tempDir('plasma-image-');
	const imageDir = path.join(dir, 'image');
	mkdirSync(`${imageDir}.building`);
	writeFileSync(path.join(`${imageDir}.building`, 'notes.txt'), 'mine\n');
	await assert.rejects(ensureDemoImage(imageDir, {rebuild: true, buildScript: standIn(dir)}), UnsafeDirError);
	assert.equal(readFileSync(path.join(`${imageDir}.building`, 'notes.txt'), 'utf8'), 'mine\n');

	const cached = path.join(dir, 'cached');
	mkdirSync(cached);
	for (const name of ['vmlinuz', 'initrd.img', 'versions.txt', 'stamp.json']) writeFileSync(path.join(cached, name), 'old');
	const image = await ensureDemoImage(cached, {rebuild: true, buildScript: standIn(dir)});
	assert.equal(image.built, true);
	assert.equal(readFileSync(image.kernel, 'utf8'), 'kernel\n');
	assert.ok(existsSync(path.join(cached, OWNED_MARKER)));
	assert.equal(existsSync(`${cached}.building`), false);
	assert.equal(existsSync(`${cached}.lock`), false);
});
