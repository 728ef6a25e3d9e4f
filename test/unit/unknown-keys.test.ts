import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {parseProfile} from '../../source/model/parse-profile.js';
import {formatProblem, type FieldError} from '../../source/model/field-error.js';
import {nearestKey} from '../../source/model/nearest-key.js';
import {listTemplates, loadTemplate, ProfileStore, ProfileStoreError} from '../../source/services/profiles.js';
import {tempDir, template} from '../helpers.js';

function errorsOf(input: unknown): FieldError[] {
	const result = parseProfile(input);
	assert.ok(!result.ok, 'the profile was accepted');
	return result.errors;
}

function lines(input: unknown): string[] {
	return errorsOf(input).map(formatProblem);
}

test('a misspelt top-level key is an error naming it and the key it meant', () => {
	const {install, ...rest} = template();
	assert.deepEqual(lines({...rest, instal: install}), ['instal: unknown key "instal" (did you mean "install"?) (fix: rename it to install, or remove it)']);
});

test('a misspelt nested key names its full path; the suggestion ignores case', () => {
	const profile = template();
	assert.deepEqual(lines({...profile, network: {...profile.network, sshPortBAse: 2300}}), [
		'network.sshPortBAse: unknown key "sshPortBAse" (did you mean "sshPortBase"?) (fix: rename it to sshPortBase, or remove it)',
	]);
	const deeper = lines({...profile, tls: {...profile.tls, fileNames: {...profile.tls.fileNames, crt: 'x.crt'}}, install: {...profile.install, push: {...profile.install.push, file: []}}});
	assert.ok(deeper.includes('tls.fileNames.crt: unknown key "crt" (did you mean "cert"?) (fix: rename it to cert, or remove it)'), deeper.join('\n'));
	assert.ok(deeper.includes('install.push.file: unknown key "file" (did you mean "files"?) (fix: rename it to files, or remove it)'), deeper.join('\n'));
});

test('every object of the profile rejects unknown keys', () => {
	const profile = template();
	const sections = ['cluster', 'defaults', 'network', 'boot', 'ssh', 'tls', 'install'] as const;
	for (const section of sections) {
		const errors = errorsOf({...profile, [section]: {...profile[section], bogusSetting: 1}});
		assert.deepEqual(errors.map(e => e.field), [`${section}.bogusSetting`], section);
	}
	const nested = errorsOf({
		...profile,
		tls: {...profile.tls, existingCa: {cert: 'ca.crt', key: 'ca.key', chain: 'x'}},
		install: {...profile.install, nixosAnywhere: {flake: '.', extra: []}, push: {files: [{src: 'a', dest: '/b', owner: 'root'}], commands: []}},
	});
	assert.deepEqual(nested.map(e => e.field).sort(), ['install.nixosAnywhere.extra', 'install.push.files[0].owner', 'tls.existingCa.chain']);
});

test('an unknown key in a node entry names the node index', () => {
	const profile = template();
	profile.nodes[1] = {...profile.nodes[1]!, cpus: 2} as (typeof profile.nodes)[number];
	assert.deepEqual(lines(profile), ['nodes[1].cpus: unknown key "cpus" (did you mean "vcpus"?) (fix: rename it to vcpus, or remove it)']);
});

test('an unknown key in a check entry is suggested from that check type\'s keys', () => {
	const profile = template();
	const checks = [...profile.checks, {type: 'ssh', timeout: 30}, {type: 'http', port: 2379, pth: '/health'}, {type: 'command', command: 'true', expectExitCode: 0}];
	assert.deepEqual(lines({...profile, checks}), [
		`checks[${profile.checks.length}].timeout: unknown key "timeout" (did you mean "timeoutSec"?) (fix: rename it to timeoutSec, or remove it)`,
		`checks[${profile.checks.length + 1}].pth: unknown key "pth" (did you mean "path"?) (fix: rename it to path, or remove it)`,
		`checks[${profile.checks.length + 2}].expectExitCode: unknown key "expectExitCode" (did you mean "expectExit"?) (fix: rename it to expectExit, or remove it)`,
	]);
	// "path" belongs to http checks only: an ssh check has nothing close to suggest.
	const [ssh] = errorsOf({...profile, checks: [{type: 'ssh', pth: '/'}]});
	assert.equal(ssh!.message, 'unknown key "pth"');
	assert.equal(ssh!.fix, 'remove it; the keys allowed here are name, timeoutSec, explainLog, roles, type');
});

test('one error per unknown key; nothing close means no suggestion', () => {
	const errors = errorsOf({...template(), zzzz: 1, colour: 'red', instal: {}});
	assert.deepEqual(errors.map(e => e.field), ['zzzz', 'colour', 'instal']);
	assert.equal(errors[0]!.message, 'unknown key "zzzz"');
	assert.match(errors[0]!.fix, /^remove it; the keys allowed here are version, name, description, cluster, /);
	assert.doesNotMatch(errors[1]!.message, /did you mean/);
});

test('unknown keys are shown printable: control characters cannot reach the terminal', () => {
	const [error] = errorsOf({...template(), 'instal\u001b[2J': {}});
	assert.equal(error!.field, 'instal\\x1b[2J');
	assert.equal(error!.message, 'unknown key "instal\\x1b[2J"');
});

test('nearestKey: case-insensitive, transpositions are one edit, a third of the name may differ', () => {
	const known = ['install', 'timeoutSec', 'vcpus', 'memoryMiB', 'name', 'mode'];
	assert.equal(nearestKey('INSTALL', known), 'install');
	assert.equal(nearestKey('isntall', known), 'install');
	assert.equal(nearestKey('timeout', known), 'timeoutSec');
	assert.equal(nearestKey('memory', known), 'memoryMiB');
	assert.equal(nearestKey('cpus', known), 'vcpus');
	assert.equal(nearestKey('nmae', known), 'name');
	assert.equal(nearestKey('node', known), 'mode');
	assert.equal(nearestKey('x', known), undefined);
	assert.equal(nearestKey('image', known), undefined);
	assert.equal(nearestKey('anything', []), undefined);
});

test('every built-in template still parses', () => {
	for (const name of listTemplates()) {
		const result = loadTemplate(name);
		assert.ok(result.ok, `${name}: ${result.ok ? '' : result.errors.map(formatProblem).join('\n')}`);
	}
});

function storeWithLab(raw: Record<string, unknown>): {store: ProfileStore; bytes: Buffer} {
	const dir = tempDir('plasma-strict-');
	const store = new ProfileStore(dir);
	fs.writeFileSync(store.file, `${JSON.stringify({profiles: {lab: raw}}, null, '\t')}\n`);
	return {store, bytes: fs.readFileSync(store.file)};
}

test('a saved profile with an unknown key is reported with its name; profiles.json is not rewritten', () => {
	const {install, ...rest} = template();
	const {store, bytes} = storeWithLab({...rest, name: 'lab', instal: install});
	assert.deepEqual(store.list(), ['lab']);
	assert.equal(store.has('lab'), true);
	const loaded = store.load('lab');
	assert.ok(!loaded.ok);
	assert.deepEqual(loaded.errors.map(formatProblem), [
		'instal: unknown key "instal" (did you mean "install"?) (fix: rename it to install, or remove it)',
		`profile: saved profile "lab" in ${store.file} has the problems above (fix: fix it in the wizard or in that file; it was not changed)`,
	]);
	assert.deepEqual(store.rename('lab', 'lab2').map(e => e.field), ['instal']);
	// A fresh store (a new process) reads the same file the same way.
	assert.ok(!new ProfileStore(store.configDir).load('lab').ok);
	assert.deepEqual(fs.readFileSync(store.file), bytes);
});

test('a draft with an unknown key is reported with the draft file, not dropped or stripped', () => {
	const dir = tempDir('plasma-strict-draft-');
	const store = new ProfileStore(dir);
	const profile = template();
	const text = JSON.stringify({draft: {profile: {...profile, network: {...profile.network, sshPortBAse: 2300}}, screen: 'network', savedAt: '2026-01-01T00:00:00.000Z'}});
	fs.writeFileSync(store.draftFile, text);
	assert.throws(
		() => store.loadDraft(),
		(error: unknown) =>
			error instanceof ProfileStoreError &&
			error.filePath === store.draftFile &&
			error.message.includes(store.draftFile) &&
			error.message.includes('network.sshPortBAse: unknown key "sshPortBAse" (did you mean "sshPortBase"?)'),
	);
	assert.equal(fs.readFileSync(store.draftFile, 'utf8'), text);
});
