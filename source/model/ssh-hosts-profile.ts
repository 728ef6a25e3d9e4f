import type {NodeSshSpec, Profile} from './profile-schema.js';
import {resolveNodes} from './resolve.js';

// From a VM rehearsal to the same profile on machines that already exist: what
// changes is the target, how each node is reached (and its host key), its
// cluster IP written out (the tool no longer assigns it); what stays is the
// roles, names, certificates, install and checks.
export function onSshHosts(rehearsal: Profile, hosts: Record<string, NodeSshSpec>, hostKeys: Record<string, string> = {}): Profile {
	const resolved = resolveNodes(rehearsal);
	return {
		...structuredClone(rehearsal),
		target: {kind: 'ssh-hosts', connectTimeoutSec: 15, minFreeDiskMiB: 256},
		nodes: rehearsal.nodes.map((spec, index) => {
			const {mac: _mac, sshPort: _port, vcpus: _vcpus, memoryMiB: _memory, diskGiB: _disk, ...kept} = spec;
			const ssh = hosts[spec.name];
			return {...kept, ip: resolved[index]!.ip, ...(ssh ? {ssh} : {})};
		}),
		ssh: {...rehearsal.ssh, hostKeys: {...rehearsal.ssh.hostKeys, ...hostKeys}},
	};
}
