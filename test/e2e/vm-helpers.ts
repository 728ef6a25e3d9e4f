import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import {buildPlan, type Plan} from '../../source/model/plan.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {toolPaths} from '../../source/services/paths.js';
import {findProcesses} from '../../source/services/processes.js';
import {writeProfileFile} from '../../source/services/profiles.js';
import {hostTools, skipUnless, template} from '../helpers.js';

// Shared by the tests that boot real VMs: free ports, a demo profile in a temp home, the process list of a run.

// The demo image is built once per machine (CI: `plasma-tui image`) in the shared cache, not per test home.
export const sharedImageDir = toolPaths({...process.env, PLASMA_TUI_HOME: undefined}).imageDir;

// What booting the demo VMs needs on the host: QEMU, the VDE switch, and the packages build-image.sh copies into the image.
export async function vmSkip(): Promise<string | false> {
	return skipUnless(
		await hostTools({
			'qemu-system-x86_64': 'qemu-system-x86',
			'qemu-img': 'qemu-utils',
			vde_switch: 'vde2',
			busybox: 'busybox-static',
			cpio: 'cpio',
			xz: 'xz-utils',
			'/usr/sbin/sshd': 'openssh-server',
			'ssh-keygen': 'openssh-client',
			etcd: 'etcd-server',
			etcdctl: 'etcd-client',
		}),
	);
}

export function portFree(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const server = net.createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

export async function freePortBase(count: number): Promise<number> {
	for (let attempt = 0; attempt < 50; attempt++) {
		const base = 22_000 + Math.floor(Math.random() * 900) * 10;
		const free = await Promise.all(Array.from({length: count}, (_, i) => portFree(base + i)));
		if (free.every(Boolean)) return base;
	}
	throw new Error('no free SSH port range found');
}

// A copy of the demo template with its own name, free SSH ports and a work directory in `home`,
// saved as a profile file for the CLI (`--profile-file`).
// templateName: another shipped demo profile (e.g. demo-nixos-anywhere).
export async function demoProfileIn(home: string, name: string, edit?: (profile: Profile) => void, templateName = 'demo'): Promise<{profile: Profile; plan: Plan; profileFile: string}> {
	const profile = template(templateName);
	profile.name = name;
	profile.network.sshPortBase = await freePortBase(profile.nodes.length);
	// Short socket paths: the work directory sits right in the temp dir.
	profile.workDir = path.join(home, name);
	edit?.(profile);
	const plan = buildPlan(profile, {clustersDir: path.join(home, 'clusters'), imageDir: sharedImageDir, home, accel: 'tcg'});
	assert.deepEqual(plan.problems, []);
	const profileFile = path.join(home, `${name}.json`);
	await writeProfileFile(profileFile, profile);
	return {profile, plan, profileFile};
}

export async function processesOf(plan: Plan) {
	// QEMU or a switch (by /proc/<pid>/exe) with a path of this work directory in its argv.
	const found = await findProcesses(p => /(^|\/)(qemu-system-x86_64|vde_switch)$/.test(p.exe ?? '') && p.argv.some(arg => arg.startsWith(`${plan.workDir}/`)));
	return found.map(p => ({pid: p.pid, cmdline: p.argv.join(' ')}));
}
