import {mkdtempSync, readFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import type {Profile} from '../source/model/profile-schema.js';
import {loadTemplate} from '../source/services/profiles.js';
import {buildPlan, type Plan} from '../source/model/plan.js';

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

// Waits up to 5 s for a process (a child of something the code under test started) to be gone; a zombie counts as gone.
export async function assertProcessGone(pid: number): Promise<void> {
	const deadline = Date.now() + 5000;
	const alive = () => {
		try {
			process.kill(pid, 0);
			return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
		} catch {
			return false;
		}
	};
	while (alive() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50));
	assert.equal(alive(), false, `process ${pid} is still running`);
}
