// Not a test: a separate plasma-tui process for child-processes.test.ts. It runs
// node01's nixos-anywhere install through the real install path (state file,
// extra-files staging) with the headless commands' signal handling, so the test
// can send it SIGHUP or SIGKILL as a dropped SSH session or the OOM killer would.
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {abortOnSignals} from '../../source/commands/interrupt.js';
import type {Plan} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {installNode} from '../../source/services/install.js';
import {StateStore} from '../../source/services/state.js';
import {planIn, template} from '../helpers.js';

export function childProfile(home: string): Profile {
	const profile = template('plasmacloud-3node');
	profile.name = 'hangup';
	profile.workDir = path.join(home, 'work');
	profile.network.sshPortBase = 42301;
	profile.install.nixosAnywhere = {...profile.install.nixosAnywhere, flake: '/srv/plasmacloud', extraArgs: []};
	profile.install.timeoutSec = 120;
	return profile;
}

export function childPlan(home: string): Plan {
	return planIn(home, childProfile(home));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const home = process.argv[2]!;
	const profile = childProfile(home);
	const plan = childPlan(home);
	const controller = new AbortController();
	abortOnSignals(controller);
	const state = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
	try {
		await installNode({plan, node: plan.nodes[0]!, state, signal: controller.signal, onLine: line => console.log(line)});
		console.log('install done');
	} catch (error) {
		console.log(`install ended: ${(error as Error).message}`);
		process.exitCode = controller.signal.aborted ? 130 : 1;
	}
}
