import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, writeFileSync, statSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {execFileSync, spawnSync} from 'node:child_process';
import {findProfile, listTemplates, loadTemplate, ProfileStore, ProfileStoreError, readProfileFile, writeProfileFile} from '../../source/services/profiles.js';

function tempDir(): string {
	return mkdtempSync(path.join(os.tmpdir(), 'plasma-store-'));
}

function demo() {
	const result = loadTemplate('demo');
	assert.ok(result.ok);
	return result.profile;
}

test('templates are listed and load as valid profiles', () => {
	assert.deepEqual(listTemplates(), ['demo', 'demo-nixos-anywhere', 'plasmacloud-3node']);
	const plasma = loadTemplate('plasmacloud-3node');
	assert.ok(plasma.ok);
	assert.equal(plasma.profile.nodes.length, 3);
	assert.equal(plasma.profile.install.method, 'nixos-anywhere');
	assert.equal(loadTemplate('nope').ok, false);
});

test('save, list, load, rename and delete round-trip through conf', () => {
	const store = new ProfileStore(tempDir());
	store.save({...demo(), name: 'lab'});
	assert.deepEqual(store.list(), ['lab']);
	const loaded = store.load('lab');
	assert.ok(loaded.ok);
	assert.equal(loaded.profile.cluster.name, 'demo');
	assert.deepEqual(store.rename('lab', 'Bad Name'), [
		{field: 'name', message: '"Bad Name" is not a valid profile name', fix: 'use lowercase letters, digits, dots, dashes and underscores (at most 63)'},
	]);
	assert.deepEqual(store.rename('lab', 'lab2'), []);
	assert.deepEqual(store.list(), ['lab2']);
	assert.equal(store.delete('lab2'), true);
	assert.equal(store.delete('lab2'), false);
	assert.deepEqual(store.list(), []);
	assert.equal(statSync(store.file).mode & 0o777, 0o600);
});

test('a corrupt profiles file is reported with its path and never replaced', () => {
	const dir = tempDir();
	const file = path.join(dir, 'profiles.json');
	writeFileSync(file, '{"profiles": {"lab": ');
	const store = new ProfileStore(dir);
	assert.throws(() => store.list(), (error: unknown) => error instanceof ProfileStoreError && error.filePath === file && error.message.includes(file));
	assert.throws(() => store.save(demo()), ProfileStoreError);
	assert.equal(readFileSync(file, 'utf8'), '{"profiles": {"lab": ');
});

test('the draft survives a crash of the process that typed it', () => {
	const dir = tempDir();
	const script = `
		import {ProfileStore} from ${JSON.stringify(path.resolve('source/services/profiles.ts'))};
		const store = new ProfileStore(${JSON.stringify(dir)});
		store.saveDraft({name: 'half', nodes: [{name: 'node01'}], network: {subnet: '10.9.0.0/2'}}, 'network');
		process.kill(process.pid, 'SIGKILL');
	`;
	spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
	const draft = new ProfileStore(dir).loadDraft();
	assert.ok(draft);
	assert.equal(draft.screen, 'network');
	assert.equal(draft.profile.name, 'half');
	assert.equal(draft.profile.network.subnet, '10.9.0.0/2');
});

test('profile files: export, import, and errors that name the field', async () => {
	const dir = tempDir();
	const file = path.join(dir, 'p.json');
	await writeProfileFile(file, demo());
	const back = await readProfileFile(file);
	assert.ok(back.ok);
	assert.deepEqual(back.profile, demo());

	const bad = JSON.parse(readFileSync(file, 'utf8'));
	bad.nodes[1].ip = '10.0.0.5';
	writeFileSync(file, JSON.stringify(bad));
	const result = await readProfileFile(file);
	assert.equal(result.ok, false);
	assert.ok(!result.ok && result.errors.some(e => e.field === 'nodes[1].ip' && e.message.includes('outside the subnet')));

	writeFileSync(file, '{"name": ');
	const corrupt = await readProfileFile(file);
	assert.ok(!corrupt.ok && corrupt.errors[0]!.message.includes(file));
	assert.equal(readFileSync(file, 'utf8'), '{"name": ');
});

test('lookup order: --profile-file, then saved, then template', async () => {
	const store = new ProfileStore(tempDir());
	const fromTemplate = await findProfile({name: 'demo', store});
	assert.ok(fromTemplate.ok && fromTemplate.profile.description.includes('Three small nodes'));
	store.save({...demo(), description: 'my own demo'});
	const fromSaved = await findProfile({name: 'demo', store});
	assert.ok(fromSaved.ok && fromSaved.profile.description === 'my own demo');
	const missing = await findProfile({name: 'ghost', store});
	assert.ok(!missing.ok && missing.errors[0]!.field === '--profile');
});

test('the profiles command exports, imports and lists', () => {
	const home = tempDir();
	const env = {...process.env, PLASMA_TUI_HOME: home};
	const cli = ['--import', 'tsx', 'source/cli.tsx', 'profiles'];
	const file = path.join(home, 'x.json');
	execFileSync(process.execPath, [...cli, 'export', 'demo', file], {env});
	const json = JSON.parse(readFileSync(file, 'utf8'));
	json.name = 'imported';
	writeFileSync(file, JSON.stringify(json));
	execFileSync(process.execPath, [...cli, 'import', file], {env});
	const listing = execFileSync(process.execPath, [...cli, 'list'], {env, encoding: 'utf8'});
	assert.match(listing, /saved profiles:\n {2}imported\n/);
	const deleted = spawnSync(process.execPath, [...cli, 'delete', 'ghost'], {env, encoding: 'utf8'});
	assert.equal(deleted.status, 2);
	assert.match(deleted.stderr, /no saved profile named "ghost"/);
});

test('profiles list marks a saved profile that shadows a template; --profile says which one it used', () => {
	// Issue 10, point 3: on main before this, a saved profile named demo hid the demo template
	// without a word: the list showed "demo" twice and --profile demo picked the saved one silently.
	const home = tempDir();
	const env = {...process.env, PLASMA_TUI_HOME: home};
	const store = new ProfileStore(path.join(home, 'config'));
	store.save({...demo(), description: 'my own demo'});
	store.save({...demo(), name: 'lab'});
	const listing = execFileSync(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'profiles', 'list'], {env, encoding: 'utf8'});
	assert.match(listing, /saved profiles:\n {2}demo \(saved; shadows the template demo\)\n {2}lab\n/);
	assert.match(listing, /templates:\n {2}demo \(shadowed: --profile demo uses the saved profile\)\n {2}demo-nixos-anywhere\n {2}plasmacloud-3node\n/);
	const shadowed = spawnSync(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'plan', '--profile', 'demo', '--json'], {env, encoding: 'utf8'});
	assert.equal(shadowed.status, 0, shadowed.stderr);
	assert.equal(JSON.parse(shadowed.stdout).profileName, 'demo');
	assert.match(shadowed.stderr, /^plasma-tui plan: --profile demo is the saved profile demo, not the template demo/m);
	for (const name of ['lab', 'plasmacloud-3node']) {
		const plain = spawnSync(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'plan', '--profile', name, '--json'], {env, encoding: 'utf8'});
		assert.equal(plain.status, 0, plain.stderr);
		assert.equal(plain.stderr, '', `--profile ${name} has one source: nothing to say`);
	}
});
