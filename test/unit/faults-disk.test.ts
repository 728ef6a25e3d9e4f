import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {createPrivateKey, X509Certificate} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {buildPlan} from '../../source/model/plan.js';
import {problemOf} from '../../source/model/field-error.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {skipUnless, template, tempDir} from '../helpers.js';

// The disk filling while artifacts are written: a real tmpfs a few pages big
// as the work directory. The write fails with ENOSPC and the path, nothing
// half-written is left, and a rerun with space finishes the job.

const root = path.resolve(import.meta.dirname, '..', '..');
const base = tempDir('plasma-full-');
const mounts: string[] = [];
let skipReason: string | false = false;

async function mountTmpfs(name: string, size: string): Promise<string> {
	const dir = path.join(base, name);
	fs.mkdirSync(dir);
	const result = await execa('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {reject: false});
	if (result.exitCode !== 0) throw new Error(`mount -t tmpfs failed: ${result.stderr.trim()}`);
	mounts.push(dir);
	return dir;
}

before(async () => {
	try {
		await fs.promises.rm(await mountTmpfs('probe', '64k'), {recursive: true, force: true}).catch(() => undefined);
	} catch (error) {
		skipReason = skipUnless([{missing: `cannot mount a tmpfs here: ${(error as Error).message}`, fix: 'run the tests as root or with CAP_SYS_ADMIN'}]);
	}
});

after(async () => {
	for (const dir of mounts.reverse()) await execa('umount', ['-l', dir], {reject: false});
	fs.rmSync(base, {recursive: true, force: true});
});

function filesUnder(dir: string): string[] {
	return fs.readdirSync(dir, {recursive: true, encoding: 'utf8'}).map(f => path.join(dir, f)).filter(f => fs.statSync(f).isFile());
}

// Whatever is on disk after the failure is whole: keys and certificates parse, no temp file is left.
function assertNothingHalfWritten(dir: string): void {
	for (const file of filesUnder(dir)) {
		const name = path.basename(file);
		assert.doesNotMatch(name, /\.tmp$/, `temp file left behind: ${file}`);
		const text = fs.readFileSync(file, 'utf8');
		assert.ok(text.length > 0, `empty file: ${file}`);
		if (name.endsWith('.key')) assert.doesNotThrow(() => createPrivateKey(text), `${file} is a whole private key`);
		if (name.endsWith('.crt')) assert.doesNotThrow(() => new X509Certificate(text), `${file} is a whole certificate`);
		if (/ed25519(_key)?$/.test(name)) assert.match(text, /-----END OPENSSH PRIVATE KEY-----\n?$/, `${file} is a whole SSH key`);
		if (name.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(text), `${file} is whole JSON`);
	}
	const tls = path.join(dir, 'tls');
	if (fs.existsSync(path.join(tls, 'ca.key'))) assert.ok(fs.existsSync(path.join(tls, 'ca.crt')), 'a CA key is never left without its certificate');
}

for (const size of ['12k', '24k', '48k', '64k']) {
	test(`a ${size} disk fills while artifacts are written: ENOSPC with the path, nothing half-written, a rerun finishes`, async t => {
		if (skipReason) return t.skip(skipReason);
		const mount = await mountTmpfs(`fill-${size}`, size);
		const profile = template('demo');
		profile.workDir = path.join(mount, 'work');
		const plan = buildPlan(profile, {clustersDir: mount, imageDir: mount, home: mount});
		await assert.rejects(writeArtifacts(plan), (error: Error) => {
			assert.match(error.message, /ENOSPC/);
			assert.ok(error.message.includes(mount), `the message names the file: ${error.message}`);
			assert.match(problemOf(error).fix ?? '', /free space/);
			return true;
		});
		assertNothingHalfWritten(profile.workDir);
		// With room again the same call completes: nothing left behind blocks it.
		await execa('mount', ['-o', 'remount,size=4m', mount]);
		const report = await writeArtifacts(plan);
		assertNothingHalfWritten(profile.workDir);
		const ca = new X509Certificate(fs.readFileSync(plan.tls.caCert));
		for (const node of plan.nodes) assert.ok(new X509Certificate(fs.readFileSync(node.secrets.cert)).checkIssued(ca), `${node.name} chains to the CA`);
		assert.equal(report.certificates.length, plan.nodes.length);
	});
}

test('`plasma-tui certs` on a full disk exits 1 with the file, ENOSPC and the fix, and no stack trace', async t => {
	if (skipReason) return t.skip(skipReason);
	const mount = await mountTmpfs('certs-cli', '16k');
	const home = tempDir('plasma-full-home-');
	const profile = template('demo');
	profile.workDir = path.join(mount, 'work');
	const profileFile = path.join(home, 'full.json');
	await writeProfileFile(profileFile, profile);
	const result = await execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'certs', '--profile-file', profileFile], {cwd: root, env: {...process.env, PLASMA_TUI_HOME: home}, reject: false, timeout: 60_000});
	assert.equal(result.exitCode, 1, result.stdout + result.stderr);
	assert.match(result.stderr, new RegExp(`^plasma-tui certs: cannot write ${mount}/\\S+: ENOSPC \\(no space left on the device\\) \\(fix: free space`, 'm'));
	assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
	assertNothingHalfWritten(profile.workDir);
	fs.rmSync(home, {recursive: true, force: true});
});
