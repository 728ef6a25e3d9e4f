#!/usr/bin/env node
// Runs the test suite with node's own test runner. Node 20 does not expand
// globs, so the files are listed here. Groups: unit, security, screens, e2e (default: all).
// e2e files run one at a time: they boot real VMs and share the machine's 2 cores.
import {spawn} from 'node:child_process';
import {readdirSync, statSync} from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const GROUPS = ['unit', 'security', 'screens', 'e2e'];
const groups = process.argv.slice(2).filter(a => !a.startsWith('-'));
const unknown = groups.filter(group => !GROUPS.includes(group));
if (unknown.length > 0) {
	console.error(`unknown test group: ${unknown.join(', ')} (groups: ${GROUPS.join(', ')})`);
	process.exit(2);
}
const only = groups.length > 0 ? groups : GROUPS;

function testFiles(dir) {
	const full = path.join(root, 'test', dir);
	let entries = [];
	try {
		entries = readdirSync(full);
	} catch {
		return [];
	}
	return entries
		.flatMap(entry => {
			const file = path.join(full, entry);
			if (statSync(file).isDirectory()) return testFiles(path.join(dir, entry));
			return /\.test\.tsx?$/.test(entry) ? [file] : [];
		})
		.sort();
}

// A group that runs far past its usual time has a file that hangs. Seen twice in CI: ssh-keys.test.ts
// blocked for good in a deadlock inside Node 20's node:crypto (JWK export of a generated ed25519 key
// racing a garbage collection; gdb showed the main thread in ~KeyGenJob, fixed in services/ssh-keys.ts).
// The group is stopped (its whole process group) and run once more; a second hang fails.
// Usual times on 2 cores: unit 3-4 min, security and screens under 1 min, e2e 13-15 min.
const GROUP_LIMIT_MIN = {unit: 15, security: 8, screens: 8, e2e: 40};
const limitMin = group => Number(process.env['PLASMA_TUI_TEST_GROUP_LIMIT_MIN'] ?? GROUP_LIMIT_MIN[group]);

// The group runs in its own process group (so a hang can be killed whole): a Ctrl-C or a stop
// that reaches this script is passed on to it, and nothing keeps running behind the caller.
let running;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(signal, () => {
		if (running) {
			try {
				process.kill(-running.pid, signal);
			} catch {}
		}
		process.exit(130);
	});
}

function runGroup(group, files) {
	const concurrency = group === 'e2e' ? '1' : '2';
	return new Promise(resolve => {
		const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
			cwd: root,
			stdio: 'inherit',
			env: {...process.env, FORCE_COLOR: '0'},
			detached: true,
		});
		running = child;
		const timer = setTimeout(() => {
			console.log(`\n== ${group}: still running after ${limitMin(group)} min: a test file hangs; stopping the group`);
			try {
				process.kill(-child.pid, 'SIGKILL');
			} catch {}
			resolve('hung');
		}, limitMin(group) * 60_000);
		child.on('exit', code => {
			clearTimeout(timer);
			resolve(code === 0 ? 'passed' : 'failed');
		});
	});
}

let failed = false;
for (const group of only) {
	const files = testFiles(group);
	if (files.length === 0) {
		// A group asked for by name that runs nothing must not look like a pass.
		console.log(`\n== ${group}: no test files in test/${group}`);
		if (groups.includes(group)) failed = true;
		continue;
	}
	console.log(`\n== ${group}: ${files.length} files`);
	let outcome = await runGroup(group, files);
	if (outcome === 'hung') {
		console.log(`\n== ${group}: once more (${files.length} files)`);
		outcome = await runGroup(group, files);
		if (outcome === 'hung') console.log(`\n== ${group}: hung twice`);
	}
	if (outcome !== 'passed') failed = true;
}
process.exit(failed ? 1 : 0);
