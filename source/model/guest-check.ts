import path from 'node:path';
import type {Profile} from './profile-schema.js';

// `doctor` on a custom image: which parts of the guest contract (model/guest-contract.ts) one or
// two booted nodes met. The profile it boots is the operator's, cut down to what the test needs:
// its own work directory, free SSH ports, its own switch, no pinned keys (the key from fw_cfg is
// the one checked), nothing installed.

export type ContractPartId = 'ready-line' | 'ssh' | 'host-key' | 'login' | 'cluster-ip';
export type ContractPart = {id: ContractPartId; title: string; status: 'ok' | 'failed' | 'skipped'; reason: string; required: boolean};

export const CONTRACT_PARTS: Record<ContractPartId, string> = {
	'ready-line': 'ready line on the console',
	ssh: 'SSH answered on the forwarded port',
	'host-key': 'host key from fw_cfg served',
	login: 'authorized key from fw_cfg accepted',
	'cluster-ip': 'cluster IP reachable from a second node',
};

// Booted by doctor on a custom image (or with --boot-test on any netboot profile).
export function needsBootTest(profile: Profile, bootTest: boolean): boolean {
	return profile.boot.mode === 'netboot' && (bootTest || profile.boot.image === 'custom');
}

export function doctorWorkDir(profileWorkDir: string): string {
	return path.join(profileWorkDir, 'doctor');
}

export function doctorProfile(profile: Profile, facts: {workDir: string; sshPorts: number[]; nodeCount: number}): Profile {
	const nodes = profile.nodes.slice(0, facts.nodeCount).map((node, index) => ({...node, sshPort: facts.sshPorts[index]}));
	return {
		...profile,
		name: `${profile.name}-doctor`,
		workDir: facts.workDir,
		nodes,
		network: {...profile.network, vdeSocket: undefined},
		ssh: {...profile.ssh, hostKeys: {}, hostKeyPolicy: 'generated'},
		install: {...profile.install, method: 'none'},
		checks: [],
	};
}

export function formatContractPart(part: ContractPart): string {
	const status = part.status === 'ok' ? 'ok' : part.status === 'failed' ? 'failed' : 'skip';
	return `${status.padEnd(6)} ${CONTRACT_PARTS[part.id]}: ${part.reason}`;
}

export function contractMet(parts: ContractPart[]): boolean {
	return parts.every(part => part.status !== 'failed' || !part.required);
}
