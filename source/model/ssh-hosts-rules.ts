import type {Profile} from './profile-schema.js';
import {type FieldError, fieldError, printable, ProblemError} from './field-error.js';
import {hostnameProblem} from './profile-rules.js';

// What the target of a profile asks of its nodes: one kind per profile. VMs get
// MACs, ports and disks assigned; machines that already exist name how they are
// reached and the cluster IP they already have. A mix is refused for now.

const SSH_USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
// As ssh-keygen -lf prints it: base64 of a SHA-256 without its padding.
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
// Values the tool assigns to VMs only: on an existing machine they would be silently ignored.
// diskGiB stays: on a machine it is the size of its installDisk, which the disk layout divides.
const VM_ONLY = ['mac', 'sshPort', 'vcpus', 'memoryMiB'] as const;

export function validateTarget(profile: Profile): FieldError[] {
	const errors: FieldError[] = [];
	const hosts = profile.target.kind === 'ssh-hosts';
	profile.nodes.forEach((node, index) => {
		const at = `nodes[${index}]`;
		if (!hosts) {
			if (node.ssh) errors.push(fieldError(`${at}.ssh`, `${node.name} names an SSH host, but the profile's target is qemu (VMs this tool boots): one target kind per profile`, 'remove nodes[].ssh, or set target to {"kind": "ssh-hosts"} and give every node its ssh host'));
			if (node.installDisk !== undefined) errors.push(fieldError(`${at}.installDisk`, 'only machines of target ssh-hosts have an install disk (a VM\'s is its qcow2)', 'remove it'));
			return;
		}
		// It lands in the generated disko.nix as a Nix string.
		if (node.installDisk !== undefined && !/^\/dev\/[A-Za-z0-9._:+\/-]+$/.test(node.installDisk)) errors.push(fieldError(`${at}.installDisk`, `"${printable(node.installDisk)}" is not a device path`, 'write a stable device path, e.g. /dev/disk/by-id/nvme-...'));
		if (!node.ssh) {
			errors.push(fieldError(`${at}.ssh`, `${node.name} has no SSH host, but the profile's target is ssh-hosts: one target kind per profile (no VMs mixed in)`, `add "ssh": {"host": "...", "port": 22} to ${at}`));
		} else {
			errors.push(...addressProblems(`${at}.ssh`, node.ssh));
			if (node.ssh.jump) {
				errors.push(...addressProblems(`${at}.ssh.jump`, node.ssh.jump));
				if (node.ssh.jump.hostKey !== undefined && !FINGERPRINT.test(node.ssh.jump.hostKey)) errors.push(fieldError(`${at}.ssh.jump.hostKey`, `"${printable(node.ssh.jump.hostKey)}" is not an SSH host key fingerprint`, 'write it as ssh-keygen -lf prints it on the bastion: SHA256: and 43 characters'));
			}
		}
		if (node.ip === undefined) errors.push(fieldError(`${at}.ip`, `${node.name}: a machine of target ssh-hosts keeps the cluster IP it has: the tool cannot assign one`, `set ${at}.ip to its address on the cluster network`));
		for (const key of VM_ONLY) {
			if (node[key] !== undefined) errors.push(fieldError(`${at}.${key}`, `${key} is a VM setting; ${node.name} is an existing machine (target ssh-hosts)`, `remove ${at}.${key}`));
		}
	});
	if (hosts) {
		const seen = new Map<string, string>();
		for (const node of profile.nodes) {
			if (!node.ssh) continue;
			const key = `${node.ssh.host}:${node.ssh.port}${node.ssh.jump ? ` via ${node.ssh.jump.host}:${node.ssh.jump.port}` : ''}`;
			const other = seen.get(key);
			if (other) errors.push(fieldError(`nodes[${profile.nodes.indexOf(node)}].ssh`, `${node.name} and ${other} are both ${key}`, 'give each node its own machine'));
			seen.set(key, node.name);
		}
		if (profile.target.kind === 'ssh-hosts' && profile.target.connectTimeoutSec < 1) errors.push(fieldError('target.connectTimeoutSec', 'must be at least 1 second', 'set it to how long a host may take to answer, e.g. 15'));
	}
	return errors;
}

// How a machine or its bastion is reached: a host name or IPv4 address, a TCP port, a login name.
function addressProblems(at: string, ssh: {host: string; port: number; user?: string}): FieldError[] {
	const errors: FieldError[] = [];
	const problem = ssh.host.length === 0 ? 'is empty' : hostnameProblem(ssh.host.toLowerCase());
	if (problem && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ssh.host)) errors.push(fieldError(`${at}.host`, `"${printable(ssh.host)}" ${problem}`, 'write a host name or an IPv4 address'));
	if (!Number.isInteger(ssh.port) || ssh.port < 1 || ssh.port > 65_535) errors.push(fieldError(`${at}.port`, `${ssh.port} is not a TCP port`, 'use 1-65535 (22 for most machines)'));
	if (ssh.user !== undefined && !SSH_USER.test(ssh.user)) errors.push(fieldError(`${at}.user`, `"${printable(ssh.user)}" is not a user name`, 'use a login name such as root'));
	return errors;
}

// For what works through QEMU and the switch only (node power, snapshots, faults, stop, ...):
// a profile of existing machines is refused by name before anything is touched.
export function assertVmTarget(target: {kind: string}, profileName: string, command: string): void {
	if (target.kind !== 'ssh-hosts') return;
	throw new ProblemError({
		field: 'target.kind',
		message: `profile ${profileName} targets existing machines (ssh-hosts); ${command} works on the VMs plasma-tui starts itself`,
		fix: 'rehearse with a VM profile (target.kind qemu); on machines use up, validate, watch, status and down',
	});
}
