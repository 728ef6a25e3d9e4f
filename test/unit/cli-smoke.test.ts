import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdtempSync, readFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

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
	assert.equal(traced.status, 0, traced.stderr);
	const loaded = [...traced.stderr.matchAll(/^\[import\] (\S+)$/gm)].map(match => match[1]!);
	// Nothing from node_modules is loaded as a file of its own (ssh2 is external)...
	assert.deepEqual(loaded.filter(url => url.includes('/node_modules/')), []);
	// ...nor bundled into a dist file that --help loads: esbuild's metafile lists each output's inputs.
	const meta = JSON.parse(readFileSync(path.resolve('dist/meta.json'), 'utf8')) as {outputs: Record<string, {inputs: Record<string, unknown>}>};
	const distFiles = loaded.filter(url => url.startsWith('file:')).map(url => path.relative(process.cwd(), fileURLToPath(url)));
	assert.ok(distFiles.includes(path.join('dist', 'cli.js')), `--help did not load dist/cli.js: ${loaded.join(', ')}`);
	const inputs = distFiles.flatMap(file => {
		const output = meta.outputs[file];
		assert.ok(output, `${file} is not in dist/meta.json: a stale build?`);
		return Object.keys(output.inputs);
	});
	assert.ok(inputs.includes('source/commands/registry.ts'), `registry.ts not among --help's inputs: ${inputs.join(', ')}`);
	assert.deepEqual(inputs.filter(input => /node_modules\/(ink|react|react-reconciler|zod|@peculiar|execa)\//.test(input)), []);
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
	assert.match(result.stdout, /templates:\n {2}demo\n {2}demo-nixos-anywhere\n {2}plasmacloud-3node/);
});

test('snapshot restore: --rollback with --no-rollback is refused with both named, before any profile is read', () => {
	const result = runBin(['snapshot', 'restore', 's1', '--rollback', '--no-rollback', '--profile', 'no-such-profile']);
	assert.equal(result.status, 2, result.stderr);
	assert.match(result.stderr, /--rollback and --no-rollback contradict each other \(fix: keep one; without either there is no rollback copy\)/);
	assert.match(runBin(['snapshot', '--help']).stdout, /--rollback +restore: save every node's state aside first/);
});
