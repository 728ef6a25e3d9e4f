// Issue 9, point 12 (first two items). On main before this: `profiles export` wrote its temp file
// at the predictable name FILE.<pid>.tmp with a plain write, so a symlink planted there had the
// profile written through it into its target; the kernel command line was measured as written,
// before its placeholders were filled, so a short template that grows past the x86 limit passed
// and one that shrinks below it was refused.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {parseProfile} from '../../source/model/parse-profile.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {planIn, tempDir, template} from '../helpers.js';

test('profiles export never writes through a symlink at its temp name', async () => {
	const dir = tempDir('plasma-export-');
	const victim = path.join(dir, 'victim.txt');
	writeFileSync(victim, 'keep me\n');
	const file = path.join(dir, 'demo.json');
	// The name main used, and a few more a guesser might try.
	for (const name of [`${file}.${process.pid}.tmp`, `${file}.tmp`, path.join(dir, '.demo.json.tmp')]) symlinkSync(victim, name);
	await writeProfileFile(file, template());
	assert.equal(readFileSync(victim, 'utf8'), 'keep me\n', 'the symlink target is untouched');
	assert.equal(lstatSync(file).isFile(), true);
	assert.equal(lstatSync(file).mode & 0o777, 0o644);
	assert.equal(JSON.parse(readFileSync(file, 'utf8')).name, 'demo');
	// No temp file of its own is left behind.
	assert.deepEqual(readdirSync(dir).sort(), ['.demo.json.tmp', 'demo.json', `demo.json.${process.pid}.tmp`, 'demo.json.tmp', 'victim.txt'].sort());
});

function netboot(append: string) {
	const profile = template();
	profile.boot.append = append;
	const parsed = parseProfile(profile);
	return {parsed, plan: parsed.ok ? planIn(tempDir('plasma-append-'), parsed.profile) : undefined};
}

test('the kernel command line is measured after its placeholders are filled, per node, at 2047 bytes plus NUL', () => {
	// 2040 bytes as written; {fqdn} (node01.demo.internal, 20 bytes) makes it longer than the kernel reads.
	const growing = `console=ttyS0 ${'x'.repeat(2040 - 'console=ttyS0 '.length - '{fqdn}'.length)}{fqdn}`;
	assert.equal(Buffer.byteLength(growing), 2040);
	const grown = netboot(growing);
	assert.ok(grown.parsed.ok, 'the profile rules do not measure the template');
	const problems = grown.plan!.problems.filter(p => p.field === 'boot.append');
	assert.deepEqual(
		problems.map(p => p.message),
		['node01', 'node02', 'node03'].map(node => `the kernel command line of ${node} is 2054 bytes once its placeholders are filled`),
	);
	assert.match(problems[0]!.fix, /keep it to 2047 bytes: x86 Linux reads 2048 including the terminating NUL/);

	// 2100 bytes as written, but {prefix} is "24": about 700 bytes filled, which the kernel reads whole.
	const shrinking = `console=ttyS0 ${'{prefix}'.repeat(260)}`;
	assert.ok(Buffer.byteLength(shrinking) > 2048);
	const shrunk = netboot(shrinking);
	assert.ok(shrunk.parsed.ok, shrunk.parsed.ok ? '' : JSON.stringify(shrunk.parsed.errors));
	assert.deepEqual(shrunk.plan!.problems, []);

	// The boundary: 2047 bytes filled fit, 2048 do not (the NUL needs the last byte).
	const exact = (bytes: number) => netboot(`console=ttyS0 ${'y'.repeat(bytes - 'console=ttyS0 '.length)}`).plan!.problems.filter(p => p.field === 'boot.append').length;
	assert.equal(exact(2047), 0);
	assert.equal(exact(2048), 3);
});
