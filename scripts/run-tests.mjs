#!/usr/bin/env node
// Runs the test suite with node's own test runner. Node 20 does not expand
// globs, so the files are listed here. Groups: unit, security, screens, e2e (default: all).
// e2e files run one at a time: they boot real VMs and share the machine's 2 cores.
import {spawnSync} from 'node:child_process';
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

let failed = false;
for (const group of only) {
	const files = testFiles(group);
	if (files.length === 0) {
		// A group asked for by name that runs nothing must not look like a pass.
		console.log(`\n== ${group}: no test files in test/${group}`);
		if (groups.includes(group)) failed = true;
		continue;
	}
	const concurrency = group === 'e2e' ? '1' : '2';
	console.log(`\n== ${group}: ${files.length} files`);
	const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
		cwd: root,
		stdio: 'inherit',
		env: {...process.env, FORCE_COLOR: '0'},
	});
	if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
