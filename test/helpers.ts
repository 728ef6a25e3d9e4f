import {constants as fsConstants, mkdtempSync, readFileSync} from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import type {Profile} from '../source/model/profile-schema.js';
import {loadTemplate} from '../source/services/profiles.js';
import {buildPlan, type Plan} from '../source/model/plan.js';
import {onPath} from '../source/services/on-path.js';

export function tempDir(prefix = 'plasma-test-'): string {
	return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function template(name = 'demo'): Profile {
	const result = loadTemplate(name);
	assert.ok(result.ok, `template ${name} is invalid`);
	return structuredClone(result.profile);
}

export function planIn(dir: string, profile: Profile = template()): Plan {
	return buildPlan(profile, {clustersDir: path.join(dir, 'clusters'), imageDir: path.join(dir, 'image'), home: dir});
}

// Polls until `condition` holds, instead of sleeping a guessed time; fails naming `what` after `timeoutMs`.
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise(resolve => setTimeout(resolve, 10));
	}
}

// A process that exists and is not a zombie.
export function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
	} catch {
		return false;
	}
}

// Waits up to 5 s for a process (a child of something the code under test started) to be gone; a zombie counts as gone.
export async function assertProcessGone(pid: number): Promise<void> {
	const deadline = Date.now() + 5000;
	const alive = () => isAlive(pid);
	while (alive() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50));
	assert.equal(alive(), false, `process ${pid} is still running`);
}

// Something on the host a test cannot run without: `missing` says what is absent (false when it is there), `fix` how to get it.
export type Prerequisite = {missing: string | false; fix: string};

export const REQUIRE_PREREQS = 'PLASMA_TUI_REQUIRE_PREREQS';

// Host commands by name (looked up on PATH) or absolute path, each with the Debian package that provides it.
export async function hostTools(tools: Record<string, string>, env: NodeJS.ProcessEnv = process.env): Promise<Prerequisite[]> {
	return Promise.all(
		Object.entries(tools).map(async ([command, debianPackage]) => {
			const found = path.isAbsolute(command) ? await fs.access(command, fsConstants.X_OK).then(() => true, () => false) : Boolean(await onPath(command, env));
			return {missing: found ? false : `${command} is not installed`, fix: `apt-get install ${debianPackage}`};
		}),
	);
}

// The `skip` option of a test or suite that needs `prerequisites`: false when all are there, else what is missing and how to get it.
// With PLASMA_TUI_REQUIRE_PREREQS=1 (CI) it throws instead, so a machine without them cannot pass by skipping.
export function skipUnless(prerequisites: Prerequisite[], env: NodeJS.ProcessEnv = process.env): string | false {
	const missing = prerequisites.filter(p => p.missing).map(p => `${p.missing} (${p.fix})`);
	if (missing.length === 0) return false;
	const reason = `missing prerequisite: ${missing.join('; ')}`;
	if (env[REQUIRE_PREREQS] === '1') throw new Error(`${reason}; ${REQUIRE_PREREQS}=1 makes this a failure, not a skip`);
	return reason;
}
