// Issue 9, point 1: on main before this, `down --purge` deleted the work directory at once, headless
// or not, without saying what it held; `--yes` did not exist.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {buildPlan} from '../../source/model/plan.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {template, tempDir} from '../helpers.js';

test('down --purge without --yes (no terminal) lists what it would delete, deletes nothing and exits 2 with the fix', {timeout: 120_000}, async () => {
	const home = tempDir('plasma-purge-');
	const profile = {...template(), name: 'purgeme'};
	const profileFile = path.join(home, 'purgeme.json');
	writeFileSync(profileFile, JSON.stringify(profile));
	const plan = buildPlan(profile, {clustersDir: path.join(home, 'clusters'), imageDir: path.join(home, 'image'), home});
	await writeArtifacts(plan);
	writeFileSync(plan.nodes[0]!.disk.path, 'a disk');
	const cli = (args: string[]) => execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', ...args], {cwd: path.resolve('.'), env: {...process.env, PLASMA_TUI_HOME: home}, reject: false, timeout: 60_000});

	const asked = await cli(['down', '--profile-file', profileFile, '--purge']);
	assert.equal(asked.exitCode, 2, asked.all);
	assert.match(asked.stdout, new RegExp(`deletes the work directory ${plan.workDir}, with:`));
	assert.match(asked.stdout, new RegExp(`disk ${plan.nodes[0]!.disk.path}`));
	assert.match(asked.stdout, new RegExp(`certificates and key of node01 ${plan.nodes[0]!.secrets.dir}`));
	assert.match(asked.stdout, new RegExp(`CA certificate and key ${plan.tls.dir}`));
	assert.match(asked.stderr, /--purge: deletes everything listed above and needs a confirmation; nothing was stopped or deleted \(fix: add --yes\)/);
	assert.ok(existsSync(plan.nodes[0]!.disk.path) && existsSync(plan.tls.caKey));

	const confirmed = await cli(['down', '--profile-file', profileFile, '--purge', '--yes']);
	assert.equal(confirmed.exitCode, 0, confirmed.all);
	assert.match(confirmed.stdout, new RegExp(`removed ${plan.workDir}`));
	assert.equal(existsSync(plan.workDir), false);
});
