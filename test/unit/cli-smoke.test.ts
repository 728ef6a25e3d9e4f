import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdtempSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawnSync} from 'node:child_process';

// The compiled bin, as `npx plasma-tui` runs it: catches ESM/CommonJS import
// mistakes that pass under tsx and crash the build on Node 20.
const bin = path.resolve('dist/cli.js');

function runBin(args: string[]) {
	const home = mkdtempSync(path.join(os.tmpdir(), 'plasma-smoke-'));
	return spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env: {...process.env, PLASMA_TUI_HOME: home}});
}

test('compiled bin exists (npm test builds it first)', () => {
	assert.ok(existsSync(bin), `${bin} is missing: run npm run build`);
});

test('--help lists every command and loads neither Ink nor React', () => {
	const result = runBin(['--help']);
	assert.equal(result.status, 0);
	for (const command of ['up', 'down', 'status', 'console', 'plan', 'certs', 'doctor', 'validate', 'profiles', 'init', 'image']) {
		assert.match(result.stdout, new RegExp(`^  ${command} `, 'm'));
	}
	const traced = spawnSync(process.execPath, ['--import', path.resolve('test/fixtures/trace-imports.mjs'), bin, '--help'], {encoding: 'utf8'});
	assert.match(traced.stderr, /\[import\] .*registry\.js/);
	assert.doesNotMatch(traced.stderr, /node_modules\/(ink|react|zod|@peculiar)\//);
});

test('an unknown command and an unknown option exit 2 with a pointer to help', () => {
	const unknown = runBin(['frobnicate']);
	assert.equal(unknown.status, 2);
	assert.match(unknown.stderr, /unknown command "frobnicate"/);
	const option = runBin(['plan', '--bogus']);
	assert.equal(option.status, 2);
	assert.match(option.stderr, /plasma-tui plan --help/);
});

test('a headless command runs from the compiled bin', () => {
	const result = runBin(['profiles', 'list']);
	assert.equal(result.status, 0, result.stderr);
	assert.match(result.stdout, /templates:\n {2}demo\n {2}plasmacloud-3node/);
});
