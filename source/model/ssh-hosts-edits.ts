import type {Profile} from './profile-schema.js';
import {parseWholeNumber} from './draft-edits.js';
import type {Problem} from './field-error.js';
import {resolveNodes} from './resolve.js';

// Wizard edits of a profile's target: VMs (the rehearsal) or existing machines.

export type HostCell = 'ip' | 'hostname' | 'host' | 'port' | 'user' | 'jump';

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
	const jump = cell === 'jump' && value !== '' ? parseJump(value) : undefined;
	if (jump === null) return {field: `nodes[${index}].ssh.jump`, message: `"${value}" is not a bastion`, fix: 'write [user@]host[:port], e.g. admin@bastion.example:22, or clear the cell for none'};
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
		if (cell === 'jump') {
			// A pinned bastion key stays only while the bastion is the same machine.
			const same = jump && ssh.jump && ssh.jump.host === jump.host && ssh.jump.port === jump.port;
			if (jump === undefined) delete ssh.jump;
			else ssh.jump = same && ssh.jump!.hostKey ? {...jump, hostKey: ssh.jump!.hostKey} : jump;
		}
		return {...node, ssh};
	});
	if (cell === 'port' && Number.isNaN(nodes[index]?.ssh?.port)) return {field: `nodes[${index}].ssh.port`, message: `"${value}" is not a number`};
	return {...profile, nodes};
}

// "[user@]host[:port]" -> a bastion; null when it is not one.
function parseJump(text: string): {host: string; port: number; user?: string} | null {
	const match = /^(?:([^@\s:]+)@)?([^@\s:]+)(?::(\d+))?$/.exec(text);
	if (!match) return null;
	const port = match[3] === undefined ? 22 : parseWholeNumber(match[3]);
	if (port === undefined || port < 1 || port > 65_535) return null;
	return match[1] === undefined ? {host: match[2]!, port} : {host: match[2]!, port, user: match[1]};
}

// How a bastion is shown in its cell: the form it is typed in.
export function jumpText(jump: {host: string; port: number; user?: string} | undefined): string {
	if (!jump) return '';
	return `${jump.user ? `${jump.user}@` : ''}${jump.host}${jump.port === 22 ? '' : `:${jump.port}`}`;
}
