import {mkdtempSync} from 'node:fs';
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
	return buildPlan(profile, {clustersDir: path.join(dir, 'clusters'), imageDir: path.join(dir, 'image')});
}
