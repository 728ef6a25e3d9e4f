import type {HostKeyPolicy} from './profile-schema.js';

// The host-key lifecycle of one node, in words, for the plan and the node's
// pane. Under `generated` the installed system's key is the one the tool
// generated (pinned before first contact); a netboot or kexec image may
// present its own key only from a QEMU this run started, on the port that
// QEMU holds, until install. Under `first-use` the first key seen is pinned.

export type HostKeyExpectation = {
	policy: HostKeyPolicy;
	sshPort: number;
	// ssh.hostKeys[node] in the profile: wins over the generated key and the pin file.
	pinned?: string;
	// The generated key's fingerprint once known (after the certificates stage), else its .pub file.
	generated: string;
	knownHosts: string;
	// The QEMU the netboot window belongs to: its pid when known, `attached` when this run did not start it.
	qemu?: {pid: number; attached: boolean};
};

export function describeHostKey(expect: HostKeyExpectation): string {
	if (expect.pinned) return `host key: ${expect.pinned} (ssh.hostKeys in the profile), in every phase`;
	if (expect.policy === 'first-use') return `host key: first use: the first key seen on 127.0.0.1:${expect.sshPort} is pinned in ${expect.knownHosts}; a changed key is refused`;
	const netboot = !expect.qemu
		? `any key from the QEMU this run starts (its pid, port ${expect.sshPort}) until install`
		: expect.qemu.attached
			? `none: QEMU pid ${expect.qemu.pid} was already running (attached, not started by this run)`
			: `any key from this run's QEMU (pid ${expect.qemu.pid}, port ${expect.sshPort}) until install`;
	return `host key: generated ${expect.generated} (installed system); netboot: ${netboot}`;
}
