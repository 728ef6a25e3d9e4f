import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {tempDir} from '../helpers.js';

// scripts/run-tests.mjs copied into a project with no test files: it must say so, never pass silently over nothing.
const script = path.resolve(import.meta.dirname, '..', '..', 'scripts', 'run-tests.mjs');

function emptyProject(): string {
	const dir = tempDir('plasma-run-tests-');
	fs.mkdirSync(path.join(dir, 'scripts'));
	fs.mkdirSync(path.join(dir, 'test', 'unit'), {recursive: true});
	fs.writeFileSync(path.join(dir, 'test', 'unit', 'helper.ts'), '// not a test file\n');
	fs.copyFileSync(script, path.join(dir, 'scripts', 'run-tests.mjs'));
	return dir;
}

test('a group named on the command line with no test files fails and says so', async () => {
	const dir = emptyProject();
	const result = await execa(process.execPath, [path.join(dir, 'scripts', 'run-tests.mjs'), 'unit'], {reject: false, all: true});
	assert.equal(result.exitCode, 1, result.all);
	assert.match(result.all, /== unit: no test files in test\/unit/);
	fs.rmSync(dir, {recursive: true, force: true});
});

test('without named groups, empty groups are reported and do not fail the run', async () => {
	const dir = emptyProject();
	const result = await execa(process.execPath, [path.join(dir, 'scripts', 'run-tests.mjs')], {reject: false, all: true});
	assert.equal(result.exitCode, 0, result.all);
	for (const group of ['unit', 'security', 'screens', 'e2e']) assert.match(result.all, new RegExp(`== ${group}: no test files in test/${group}`));
	fs.rmSync(dir, {recursive: true, force: true});
});

test('an unknown group is refused with the list of groups', async () => {
	const result = await execa(process.execPath, [script, 'unti'], {reject: false, all: true});
	assert.equal(result.exitCode, 2, result.all);
	assert.equal(result.all, 'unknown test group: unti (groups: unit, security, screens, e2e)');
});
