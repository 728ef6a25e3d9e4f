import {test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {execa} from 'execa';
import {hostTools, REQUIRE_PREREQS, skipUnless, tempDir} from '../helpers.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const required = {[REQUIRE_PREREQS]: '1'};
const notRequired = {[REQUIRE_PREREQS]: undefined};

test('tools that are there need neither a skip nor a failure', async () => {
	const present = await hostTools({sh: 'dash', '/bin/sh': 'dash'});
	assert.equal(skipUnless(present, notRequired), false);
	assert.equal(skipUnless(present, required), false);
});

test('a missing tool skips with what is missing and its Debian package; with the flag it fails with the same words', async () => {
	const emptyPath = {PATH: tempDir('plasma-prereq-')};
	const missing = [...(await hostTools({sh: 'dash', 'ssh-keygen': 'openssh-client'}, emptyPath)), ...(await hostTools({'/nonexistent/sshd': 'openssh-server'}))];
	const reason = 'missing prerequisite: sh is not installed (apt-get install dash); ssh-keygen is not installed (apt-get install openssh-client); /nonexistent/sshd is not installed (apt-get install openssh-server)';
	assert.equal(skipUnless(missing, notRequired), reason);
	assert.throws(() => skipUnless(missing, required), {message: `${reason}; ${REQUIRE_PREREQS}=1 makes this a failure, not a skip`});
	assert.throws(() => skipUnless([{missing: 'cannot mount a tmpfs here', fix: 'run the tests as root'}], required), /cannot mount a tmpfs here \(run the tests as root\)/);
});

test('under the test runner the same test file is skipped without the flag and fails with it', {timeout: 60_000}, async () => {
	// Without NODE_TEST_CONTEXT, which this runner sets for its children: the child runs as a test run of its own.
	const {NODE_TEST_CONTEXT: _, ...outside} = process.env;
	const run = (env: NodeJS.ProcessEnv) =>
		execa(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', path.join(root, 'test', 'fixtures', 'needs-missing-tool.ts')], {cwd: root, env: {...outside, ...env, FORCE_COLOR: '0'}, extendEnv: false, reject: false, all: true, timeout: 50_000});
	const skipped = await run(notRequired);
	assert.equal(skipped.exitCode, 0, skipped.all);
	assert.match(skipped.all ?? '', /needs plasma-no-such-tool .*# missing prerequisite: plasma-no-such-tool is not installed \(apt-get install plasma-no-such-package\)/);
	assert.match(skipped.all ?? '', /skipped 1/);
	const failed = await run(required);
	assert.equal(failed.exitCode, 1, failed.all);
	assert.match(failed.all ?? '', /missing prerequisite: plasma-no-such-tool is not installed \(apt-get install plasma-no-such-package\); PLASMA_TUI_REQUIRE_PREREQS=1 makes this a failure/);
	assert.match(failed.all ?? '', /fail 1/);
});
