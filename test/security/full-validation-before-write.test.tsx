// Issue 9, point 8. On main before this: a resumed draft was only shape-checked, and Generate on
// the certificates screen with a node named ../../x wrote the CA, the SSH key and that node's key
// and certificate (under clusters/x/, outside the profile's work directory) and showed "Written";
// writeArtifacts wrote whatever plan it was given; `profiles import` saved a profile whose plan
// has problems.
import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {render, cleanup} from 'ink-testing-library';
import {App} from '../../source/app.js';
import {buildPlan} from '../../source/model/plan.js';
import {ProblemError} from '../../source/model/field-error.js';
import {artifactProblems, writeArtifacts} from '../../source/services/artifacts.js';
import {planIn, tempDir, template} from '../helpers.js';
import {KEYS, press, realServices, waitForFrame} from '../screens/ink-helpers.js';

afterEach(() => cleanup());

test('Generate on a resumed draft with a node named ../../x writes nothing and shows the field error', async () => {
	const services = realServices();
	const draft = template();
	draft.nodes[0]!.name = '../../x';
	services.store.saveDraft(draft, 'certificates');
	const {stdin, lastFrame} = render(<App services={services} />);
	await waitForFrame(lastFrame, f => f.includes('Resume draft'), 'the resume offer');
	await press(stdin, KEYS.enter);
	await waitForFrame(lastFrame, f => f.includes('Subject alternative names'), 'the resumed certificates screen');
	// Key type, validity, CA cert, CA key, then Generate.
	await press(stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
	const frame = await waitForFrame(lastFrame, f => f.includes('nothing was written'), 'the refusal', 10_000);
	assert.match(frame, /✗ nothing was written: nodes\[0\]\.name: "\.\.\/\.\.\/x" is not a valid node name \(fix: use lowercase letters, digits and inner hyphens, e\.g\. node01\)/);
	assert.doesNotMatch(frame, /Written/);
	// Only the draft was written: no CA, no SSH key, nothing where ../../x points (clusters/x).
	assert.deepEqual(readdirSync(services.home), ['config']);
});

test('writeArtifacts refuses a plan with problems or with node files outside the node directory, before writing anything', async () => {
	const dir = tempDir('plasma-guard-');
	const escaping = template();
	escaping.nodes[1]!.name = '../../x';
	const plan = planIn(dir, escaping);
	assert.deepEqual(artifactProblems(plan).map(p => p.field), ['nodes[1].name']);
	await assert.rejects(writeArtifacts(plan), (error: unknown) => {
		assert.ok(error instanceof ProblemError);
		assert.equal(error.problem.field, 'nodes[1].name');
		assert.match(error.message, /^nodes\[1\]\.name: nothing was written: "\.\.\/\.\.\/x" would place the node's files outside \S+\/nodes \(fix: /);
		return true;
	});
	// A socket path too long is a plan problem: refused too.
	const deep = planIn(path.join(dir, 'd'.repeat(90)));
	assert.ok(deep.problems.length > 0);
	await assert.rejects(writeArtifacts(deep), /nothing was written: socket path/);
	assert.deepEqual(readdirSync(dir), [], 'nothing was written');
	// A valid plan still writes.
	const good = buildPlan(template(), {clustersDir: path.join(dir, 'ok'), imageDir: dir, home: dir});
	assert.deepEqual(artifactProblems(good), []);
	const report = await writeArtifacts(good);
	assert.ok(report.written.length > 0);
});

test('profiles import and certs refuse a profile whose plan has problems, and write nothing', () => {
	const home = tempDir('plasma-import-');
	const profile = template();
	// Valid on its own, but its sockets would not fit a unix socket path: a plan problem.
	profile.workDir = path.join(home, 'w'.repeat(100));
	const file = path.join(home, 'lab.json');
	writeFileSync(file, JSON.stringify({...profile, name: 'lab'}));
	mkdirSync(path.join(home, 'config'));
	const result = spawnSync(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'profiles', 'import', file], {encoding: 'utf8', env: {...process.env, PLASMA_TUI_HOME: home}});
	assert.equal(result.status, 2, result.stderr);
	assert.match(result.stderr, /the profile has problems:\nworkDir: socket path \S+ is longer than 107 bytes/);
	assert.equal(existsSync(profile.workDir), false);
	assert.deepEqual(readdirSync(path.join(home, 'config')), []);
});
