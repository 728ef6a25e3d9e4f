import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {INVISIBLE, seededRng, SEED} from '../hostile.js';
import {template, tempDir} from '../helpers.js';
import {ProfileStore, ProfileStoreError, readProfileFile} from '../../source/services/profiles.js';

// A saved-profiles file that is cut short, not JSON, or of the wrong shape is
// reported with its path and stays byte for byte as it was: no store
// operation and no command writes over it.

const root = path.resolve(import.meta.dirname, '..', '..');

// A real store file with two saved profiles: what truncation cuts into.
function goodStoreText(): string {
	const dir = tempDir('plasma-good-store-');
	const store = new ProfileStore(dir);
	store.save({...template('demo'), name: 'lab'});
	store.save({...template('plasmacloud-3node'), name: 'prod'});
	return fs.readFileSync(store.file, 'utf8');
}

type Outcome = {op: string; result: 'ok' | 'field-errors' | 'store-error'};

// Every operation of the store against one file; none may throw anything but a ProfileStoreError naming the file.
function exercise(dir: string, file: string): Outcome[] {
	const operations: Array<[string, (store: ProfileStore) => unknown]> = [
		['list', s => s.list()],
		['has', s => s.has('lab')],
		['load', s => s.load('lab')],
		['load-proto', s => s.load('constructor')],
		['save', s => s.save({...template('demo'), name: 'other'})],
		['rename', s => s.rename('lab', 'lab2')],
		['delete', s => s.delete('prod')],
	];
	const outcomes: Outcome[] = [];
	const before = fs.readFileSync(file);
	for (const [op, run] of operations) {
		// A fresh store each time: conf caches nothing, but the first open is where shapes are checked.
		const store = new ProfileStore(dir);
		try {
			const value = run(store) as {ok?: boolean; errors?: Array<{message: string}>} | undefined;
			outcomes.push({op, result: value && value.ok === false ? 'field-errors' : 'ok'});
		} catch (error) {
			assert.ok(error instanceof ProfileStoreError, `${op} threw ${(error as Error).stack}`);
			assert.equal(error.filePath, file);
			assert.ok(error.message.includes(file), error.message);
			assert.doesNotMatch(error.message, INVISIBLE);
			outcomes.push({op, result: 'store-error'});
		}
		const wrote = outcomes.at(-1)!.result === 'ok' && ['save', 'rename', 'delete'].includes(op);
		if (!wrote) assert.deepEqual(fs.readFileSync(file), before, `${op} changed ${file}`);
		else {
			// A file of the right shape may gain or lose other profiles; a broken entry is kept exactly.
			const entry = (buffer: Buffer) => (JSON.parse(buffer.toString()) as {profiles: Record<string, unknown>}).profiles['lab'];
			assert.deepEqual(entry(fs.readFileSync(file)), entry(before), `${op} changed the saved entry "lab"`);
			break;
		}
	}
	return outcomes;
}

test('a profiles file cut anywhere is reported with its path and never rewritten', () => {
	const text = goodStoreText();
	const rng = seededRng(SEED + 10);
	const cuts = new Set([0, 1, 2, text.length - 1, text.length - 2, ...Array.from({length: 60}, () => Math.floor(rng() * text.length))]);
	for (const cut of cuts) {
		const dir = tempDir('plasma-cut-');
		const file = path.join(dir, 'profiles.json');
		fs.writeFileSync(file, text.slice(0, cut));
		const outcomes = exercise(dir, file);
		// An empty file is not JSON either: every cut must be refused before anything is written.
		assert.ok(outcomes.every(o => o.result === 'store-error'), `cut at ${cut}: ${JSON.stringify(outcomes)}`);
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('wrong shapes and types in the profiles file are reported and kept byte-identical', () => {
	const cases: Array<[string, 'store-error' | 'field-errors']> = [
		['[]', 'store-error'],
		['"profiles"', 'store-error'],
		['null', 'store-error'],
		['42', 'store-error'],
		['{"profiles": "x"}', 'store-error'],
		['{"profiles": null}', 'store-error'],
		['{"profiles": []}', 'store-error'],
		['{"profiles": {"lab": 42}}', 'field-errors'],
		['{"profiles": {"lab": {"name": "lab"}}}', 'field-errors'],
		['{"profiles": {"lab": {"name": "lab", "nodes": [{"name": "n\\u0000\\u001b[2J"}]}}}', 'field-errors'],
		['\ufeff{"profiles": {}}', 'store-error'],
		['{"profiles": {}} trailing', 'store-error'],
		['\u0000\u0000\u0000', 'store-error'],
	];
	for (const [content, expected] of cases) {
		const dir = tempDir('plasma-shape-');
		const file = path.join(dir, 'profiles.json');
		fs.writeFileSync(file, content);
		const store = new ProfileStore(dir);
		if (expected === 'store-error') {
			assert.throws(() => store.list(), (error: unknown) => error instanceof ProfileStoreError && error.filePath === file, content);
		} else {
			const loaded = store.load('lab');
			assert.ok(!loaded.ok, content);
			assert.ok(loaded.errors.some(e => e.message.includes(file)), `${content}: the errors name the file: ${JSON.stringify(loaded.errors)}`);
			for (const error of loaded.errors) assert.doesNotMatch(`${error.field} ${error.message} ${error.fix}`, INVISIBLE);
		}
		exercise(dir, file);
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('a file broken by hand after the store opened it is not written over', () => {
	const dir = tempDir('plasma-later-');
	const store = new ProfileStore(dir);
	store.save({...template('demo'), name: 'lab'});
	fs.writeFileSync(store.file, '[1, 2');
	assert.throws(() => store.save({...template('demo'), name: 'two'}), ProfileStoreError);
	fs.writeFileSync(store.file, '[]');
	assert.throws(() => store.save({...template('demo'), name: 'two'}), ProfileStoreError);
	assert.equal(fs.readFileSync(store.file, 'utf8'), '[]');
});

test('an empty object is kept as it is until something is saved', () => {
	const dir = tempDir('plasma-empty-');
	const file = path.join(dir, 'profiles.json');
	fs.writeFileSync(file, '{}');
	const store = new ProfileStore(dir);
	assert.deepEqual(store.list(), []);
	assert.equal(store.has('constructor'), false, 'inherited names are not saved profiles');
	assert.equal(fs.readFileSync(file, 'utf8'), '{}');
});

test('a corrupt draft file is reported, not replaced, and a bad draft inside it is ignored', () => {
	const dir = tempDir('plasma-draft-');
	const store = new ProfileStore(dir);
	fs.writeFileSync(store.draftFile, '{"draft": ');
	assert.throws(() => store.loadDraft(), (error: unknown) => error instanceof ProfileStoreError && error.filePath === store.draftFile);
	assert.throws(() => store.saveDraft(template('demo'), 'topology'), ProfileStoreError);
	assert.equal(fs.readFileSync(store.draftFile, 'utf8'), '{"draft": ');
	fs.writeFileSync(store.draftFile, '{"draft": {"profile": 5, "screen": [], "savedAt": null}}');
	assert.equal(new ProfileStore(dir).loadDraft(), undefined);
});

test('a truncated --profile-file is a field error with its path; the file is unchanged', async () => {
	const dir = tempDir('plasma-pfile-');
	const file = path.join(dir, 'p.json');
	const text = JSON.stringify(template('demo'), null, 2);
	const cut = text.slice(0, Math.floor(text.length / 2));
	fs.writeFileSync(file, `${cut}\u001b[2J`);
	const result = await readProfileFile(file);
	assert.ok(!result.ok);
	assert.equal(result.errors[0]!.field, '--profile-file');
	assert.ok(result.errors[0]!.message.includes(file));
	assert.doesNotMatch(result.errors[0]!.message, INVISIBLE);
	assert.equal(fs.readFileSync(file, 'utf8'), `${cut}\u001b[2J`);
});

test('the commands report a corrupt saved-profiles file with its path and leave it alone', async () => {
	const home = tempDir('plasma-cli-corrupt-');
	const file = path.join(home, 'config', 'profiles.json');
	fs.mkdirSync(path.dirname(file), {recursive: true});
	const content = goodStoreText().slice(0, 700);
	fs.writeFileSync(file, content);
	const env = {...process.env, PLASMA_TUI_HOME: home};
	for (const args of [['profiles'], ['plan', '--profile', 'lab'], ['profiles', 'delete', 'lab']]) {
		const result = await execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', ...args], {cwd: root, env, reject: false, timeout: 60_000});
		assert.notEqual(result.exitCode, 0, `${args.join(' ')}: ${result.stdout}`);
		assert.match(result.stderr, new RegExp(`${file.replaceAll('/', '\\/')} is not valid JSON.*it was not changed`), `${args.join(' ')}: ${result.stderr}`);
		assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
		assert.equal(fs.readFileSync(file, 'utf8'), content);
	}
});

test('a profile file with random bytes changed, cut or inserted never throws and is never rewritten', async () => {
	const dir = tempDir('plasma-mutate-');
	const file = path.join(dir, 'p.json');
	const good = Buffer.from(JSON.stringify(template('demo'), null, 2));
	const rng = seededRng(SEED + 11);
	const junk = Buffer.from('\u0000\u001b[2J"{}[],:\\\u202e🦀', 'utf8');
	for (let round = 0; round < 300; round++) {
		let bytes = Buffer.from(good);
		for (let edit = 0; edit < 1 + Math.floor(rng() * 4); edit++) {
			const at = Math.floor(rng() * bytes.length);
			const kind = rng();
			if (kind < 0.4) bytes[at] = junk[Math.floor(rng() * junk.length)]!;
			else if (kind < 0.7) bytes = Buffer.concat([bytes.subarray(0, at), junk.subarray(0, 1 + Math.floor(rng() * junk.length)), bytes.subarray(at)]);
			else bytes = bytes.subarray(0, at);
		}
		fs.writeFileSync(file, bytes);
		const result = await readProfileFile(file);
		if (!result.ok) for (const error of result.errors) assert.doesNotMatch(`${error.field} ${error.message} ${error.fix}`, INVISIBLE, `round ${round}: ${JSON.stringify(error).slice(0, 200)}`);
		assert.deepEqual(fs.readFileSync(file), bytes, `round ${round}: the file was changed`);
	}
	fs.rmSync(dir, {recursive: true, force: true});
});
