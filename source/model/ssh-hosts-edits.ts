import type {Profile} from './profile-schema.js';
import {parseWholeNumber} from './draft-edits.js';
import type {Problem} from './field-error.js';
import {resolveNodes} from './resolve.js';

// Wizard edits of a profile's target: VMs (the rehearsal) or existing machines.

export type HostCell = 'ip' | 'hostname' | 'host' | 'port' | 'user';

// To ssh-hosts: each node keeps the cluster IP it was planned with (now written
// out, the machine has it), gets an empty SSH host to fill in and loses the
// VM-only values. Back to qemu: the SSH hosts go, auto-assignment returns.
export function cycleTarget(profile: Profile): Profile {
	if (profile.target.kind === 'ssh-hosts') {
		return {...profile, target: {kind: 'qemu'}, nodes: profile.nodes.map(({ssh: _ssh, installDisk: _disk, ...node}) => node)};
	}
	const resolved = resolveNodes(profile);
	return {
		...profile,
		target: {kind: 'ssh-hosts', connectTimeoutSec: 15, minFreeDiskMiB: 256},
		nodes: profile.nodes.map(({mac: _mac, sshPort: _port, vcpus: _vcpus, memoryMiB: _memory, diskGiB: _disk, ...node}, index) => ({...node, ip: resolved[index]!.ip, ssh: node.ssh ?? {host: '', port: 22}})),
	};
}

// One cell of a machine's row; an empty user falls back to ssh.user, an empty port to 22.
export function setHostCell(profile: Profile, index: number, cell: HostCell, text: string): Profile | Problem {
	const value = text.trim();
	const nodes = profile.nodes.map((node, i) => {
		if (i !== index) return node;
		if (cell === 'ip') return {...node, ip: value};
		if (cell === 'hostname') {
			const {hostname: _old, ...rest} = node;
			return value === '' ? rest : {...node, hostname: value};
		}
		const ssh = {...(node.ssh ?? {host: '', port: 22})};
		if (cell === 'host') ssh.host = value;
		if (cell === 'user') {
			if (value === '') delete ssh.user;
			else ssh.user = value;
		}
		if (cell === 'port') ssh.port = value === '' ? 22 : (parseWholeNumber(value) ?? Number.NaN);
		return {...node, ssh};
	});
	if (cell === 'port' && Number.isNaN(nodes[index]?.ssh?.port)) return {field: `nodes[${index}].ssh.port`, message: `"${value}" is not a number`};
	return {...profile, nodes};
}
