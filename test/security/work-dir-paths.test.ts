// Issue 9, point 1: on main before this, a workDir of `/`, `$HOME` or `$HOME/c/..` (never normalised)
// was planned without a word, and `down --purge` would have deleted what it pointed at; so was a
// network.vdeSocket of $HOME. The hint for a relative path suggested /var/tmp, where other users write.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {buildPlan, type PlanContext} from '../../source/model/plan.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {formatProblem} from '../../source/model/field-error.js';
import {template, tempDir} from '../helpers.js';

function contextIn(home: string): PlanContext {
	return {clustersDir: path.join(home, '.local/share/plasma-tui/clusters'), imageDir: path.join(home, '.cache/plasma-tui/image'), home: path.join(home, '.local/share/plasma-tui'), userHome: home, configDir: path.join(home, '.config/plasma-tui')};
}

test('a workDir of /, $HOME, $HOME/c/.. or above $HOME is a field error naming workDir and the fix', () => {
	const home = '/home/me';
	for (const [workDir, said] of [
		['/', '/ is the root directory'],
		[home, '/home/me is your home directory'],
		[`${home}/c/..`, '/home/me is your home directory'],
		[`${home}/`, '/home/me is your home directory'],
		['/home', '/home holds your home directory (/home/me)'],
		[`${home}/.config`, "/home/me/.config holds plasma-tui's config directory (/home/me/.config/plasma-tui)"],
	] as const) {
		const profile = {...template(), workDir};
		const plan = buildPlan(profile, contextIn(home));
		const problem = plan.problems.find(p => p.field === 'workDir');
		assert.ok(problem, `${workDir} is refused`);
		assert.equal(problem.message, `${said}: \`down --purge\` would delete it`);
		assert.match(formatProblem(problem), /\(fix: choose a directory of its own, e\.g\. \/home\/me\/\.local\/share\/plasma-tui\/clusters\/demo/);
	}
	// The resolved path is the one the run uses.
	assert.equal(buildPlan({...template(), workDir: '/home/me/c/../d'}, contextIn(home)).workDir, '/home/me/d');
	assert.deepEqual(buildPlan({...template(), workDir: '/home/me/plasma/demo'}, contextIn(home)).problems, []);
	// `/` is refused even when the context does not know the home directory.
	assert.ok(buildPlan({...template(), workDir: '/'}, {clustersDir: '/w', imageDir: '/img', home: '/h'}).problems.some(p => p.field === 'workDir'));
});

test('a network.vdeSocket of $HOME or above it is a field error naming the field', () => {
	const profile = template();
	profile.network.vdeSocket = '/home/me/x/..';
	const problem = buildPlan(profile, contextIn('/home/me')).problems.find(p => p.field === 'network.vdeSocket');
	assert.ok(problem);
	assert.match(problem.message, /^\/home\/me is your home directory: the switch's socket needs a path of its own$/);
	assert.match(problem.fix ?? '', /remove network\.vdeSocket/);
});

test("the hint for a relative workDir names a path under the home directory, not /var/tmp", () => {
	const result = parseProfile({...template(), workDir: 'relative/dir'});
	assert.equal(result.ok, false);
	const problem = !result.ok ? result.errors.find(e => e.field === 'workDir') : undefined;
	assert.ok(problem);
	assert.doesNotMatch(problem.fix ?? '', /\/var\/tmp/);
	assert.match(problem.fix ?? '', /home directory/);
});

test('plan exits 2 and down touches nothing for a workDir of $HOME', {timeout: 120_000}, async () => {
	const home = tempDir('plasma-home-');
	writeFileSync(path.join(home, 'thesis.tex'), 'years of work\n');
	mkdirSync(path.join(home, 'run'));
	writeFileSync(path.join(home, 'run', 'notes'), 'mine\n');
	const profileFile = path.join(home, 'profile.json');
	writeFileSync(profileFile, JSON.stringify({...template(), workDir: `${home}/c/..`}));
	const env = {...process.env, HOME: home, PLASMA_TUI_HOME: path.join(home, 'tool')};
	const cli = (args: string[]) => execa(process.execPath, ['--import', 'tsx', 'source/cli.tsx', ...args], {cwd: path.resolve('.'), env, reject: false, timeout: 60_000});
	const plan = await cli(['plan', '--profile-file', profileFile]);
	assert.equal(plan.exitCode, 2, plan.stderr);
	assert.match(plan.stderr, new RegExp(`workDir: ${home} is your home directory`));
	const down = await cli(['down', '--profile-file', profileFile, '--purge', '--yes']);
	assert.equal(down.exitCode, 2, down.stderr);
	assert.match(down.stderr, /nothing was stopped or removed/);
	assert.equal(readFileSync(path.join(home, 'thesis.tex'), 'utf8'), 'years of work\n');
	assert.ok(existsSync(path.join(home, 'run', 'notes')));
});
