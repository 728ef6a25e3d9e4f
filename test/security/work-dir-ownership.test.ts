// Issue 9, point 2: on main before this, an existing work directory was used as found:
// `mkdir({recursive, mode: 0o700})` neither fixed nor refused a run/node01/ another user had made (they
// would get the QMP socket) or a symlink in its place, a tls/ca.* planted in a directory of another
// user's was reused as "an earlier run's CA", and a symlinked console.log or install.log was truncated
// or written through to its target.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {ProblemError} from '../../source/model/field-error.js';
import {ensureCertificates} from '../../source/services/tls.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {installNode} from '../../source/services/install.js';
import {startNode} from '../../source/services/qemu.js';
import {StateStore} from '../../source/services/state.js';
import {OWNED_MARKER, UnsafeDirError} from '../../source/services/owned-dir.js';
import {planIn, skipUnless, tempDir} from '../helpers.js';

const asRoot = skipUnless([{missing: process.getuid?.() !== 0 && 'not running as root', fix: 'run the tests as root (CI does)'}]);
const NOBODY = 65534;

async function stateOf(plan: ReturnType<typeof planIn>) {
	return StateStore.open(plan.stateFile, plan.profileName, plan.workDir);
}

test('a symlinked run/node01 is refused with its path and the fix before QEMU starts', async () => {
	const base = tempDir();
	const plan = planIn(base);
	const node = plan.nodes[0]!;
	const elsewhere = path.join(base, 'elsewhere');
	mkdirSync(elsewhere, {mode: 0o700});
	mkdirSync(path.join(plan.workDir, 'run'), {recursive: true, mode: 0o700});
	symlinkSync(elsewhere, path.join(plan.workDir, 'run', 'node01'));
	const state = await stateOf(plan);
	await assert.rejects(startNode(node, plan, state), (error: unknown) => error instanceof UnsafeDirError && error.problem.message === `${path.join(plan.workDir, 'run', 'node01')} is a symlink` && (error.problem.fix ?? '').length > 0);
	assert.equal(existsSync(path.join(elsewhere, 'qmp.sock')), false);
});

test('a run/node01 another user made first is refused', {skip: asRoot}, async () => {
	const base = tempDir();
	const plan = planIn(base);
	const runNode = path.join(plan.workDir, 'run', 'node01');
	mkdirSync(runNode, {recursive: true, mode: 0o700});
	chownSync(runNode, NOBODY, NOBODY);
	const state = await stateOf(plan);
	await assert.rejects(startNode(plan.nodes[0]!, plan, state), (error: unknown) => error instanceof UnsafeDirError && error.problem.message === `${runNode} is owned by uid ${NOBODY}, not by you (uid 0)`);
});

test("a tls/ca.* planted in another user's tls/ is refused, never reused as an earlier run's CA", {skip: asRoot}, async () => {
	const base = tempDir();
	const plan = planIn(base);
	mkdirSync(plan.tls.dir, {recursive: true, mode: 0o700});
	writeFileSync(plan.tls.caCert, 'planted\n');
	writeFileSync(plan.tls.caKey, 'planted\n');
	chownSync(plan.tls.dir, NOBODY, NOBODY);
	await assert.rejects(ensureCertificates(plan), (error: unknown) => error instanceof UnsafeDirError && error.problem.message === `${plan.tls.dir} is owned by uid ${NOBODY}, not by you (uid 0)`);
	assert.equal(existsSync(plan.nodes[0]!.secrets.cert), false, 'nothing was signed');
});

test('a group- or world-writable node directory is refused before anything is written in it', async () => {
	const base = tempDir();
	const plan = planIn(base);
	mkdirSync(plan.nodes[1]!.dir, {recursive: true, mode: 0o700});
	const {chmodSync} = await import('node:fs');
	chmodSync(plan.nodes[1]!.dir, 0o777);
	await assert.rejects(writeArtifacts(plan), (error: unknown) => error instanceof UnsafeDirError && error.problem.message === `${plan.nodes[1]!.dir} is writable by everyone (mode 777)`);
	assert.equal(existsSync(plan.nodes[1]!.files.hostKey), false);
});

test('a symlinked console.log or install.log is refused and its target left as it was', async () => {
	const base = tempDir();
	const plan = planIn(base);
	await writeArtifacts(plan);
	const node = plan.nodes[0]!;
	const precious = path.join(base, 'precious.txt');
	writeFileSync(precious, 'keep me\n');
	symlinkSync(precious, node.runtime.consoleLog);
	const state = await stateOf(plan);
	await assert.rejects(startNode(node, plan, state), (error: unknown) => error instanceof ProblemError && error.problem.message === `${node.runtime.consoleLog} is a symlink` && /remove/.test(error.problem.fix ?? ''));
	symlinkSync(precious, node.runtime.installLog);
	await assert.rejects(installNode({plan, node, onLine: () => undefined}), (error: unknown) => error instanceof ProblemError && error.problem.message === `${node.runtime.installLog} is a symlink`);
	assert.equal(readFileSync(precious, 'utf8'), 'keep me\n');
});

test('the work directory of an earlier version (no marker, only what the tool makes) is adopted; every directory is 0700 and marked', async () => {
	const base = tempDir();
	const plan = planIn(base);
	mkdirSync(path.join(plan.workDir, 'nodes', 'node01'), {recursive: true, mode: 0o700});
	writeFileSync(path.join(plan.workDir, 'nodes', 'node01', 'console.log'), 'old boot\n');
	writeFileSync(plan.stateFile, JSON.stringify({version: 1, profile: 'demo', workDir: plan.workDir, processes: [], nodes: {}, updatedAt: new Date().toISOString()}));
	await writeArtifacts(plan);
	for (const dir of [plan.workDir, path.join(plan.workDir, 'nodes'), plan.nodes[0]!.dir, plan.nodes[0]!.secrets.dir, plan.tls.dir, plan.ssh.dir]) {
		assert.ok(existsSync(path.join(dir, OWNED_MARKER)), `${dir} carries the marker`);
		assert.equal(statSync(dir).mode & 0o777, 0o700, `${dir} is 0700`);
	}
	// A folder with anything else in it is not adopted.
	const other = planIn(tempDir());
	mkdirSync(other.workDir, {recursive: true});
	writeFileSync(path.join(other.workDir, 'thesis.tex'), 'years of work\n');
	await assert.rejects(writeArtifacts(other), (error: unknown) => error instanceof UnsafeDirError && /was not made by plasma-tui \(it holds thesis\.tex\)/.test(error.message));
});
