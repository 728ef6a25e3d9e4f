// A node's way through a run, and which step may follow which.

export const NODE_PHASES = ['pending', 'booting', 'console', 'ssh-ready', 'installing', 'installed', 'validating', 'healthy', 'failed'] as const;
export type NodePhase = (typeof NODE_PHASES)[number];

export type PhaseStep = {ok: true; phase: NodePhase} | {ok: false; why: string};

// Forward steps, plus the re-entries a run makes on purpose:
// - booting -> ssh-ready: SSH may answer before the console tail has read a line;
// - ssh-ready -> installed: install was done in an earlier run (skipped);
// - ssh-ready -> validating: the profile installs nothing;
// - installing -> installing: same phase, new reason (nixos-anywhere reboots the node);
// - healthy -> validating: validation runs again;
// - failed -> booting: the node is started again;
// - failed -> validating, validating -> validating: `validate` runs again (after a fix,
//   or after a validation that was cut short);
// - pending -> validating: `validate` of nodes no run of this state file booted (state lost).
// Any phase but failed may fail. Failed is final otherwise: a node that failed
// keeps its first reason, so a late ssh-ready or a second failure is refused.
const FOLLOWS: Record<NodePhase, readonly NodePhase[]> = {
	pending: ['booting', 'validating'],
	booting: ['console', 'ssh-ready'],
	console: ['ssh-ready'],
	'ssh-ready': ['installing', 'installed', 'validating'],
	installing: ['installing', 'installed'],
	installed: ['validating'],
	validating: ['validating', 'healthy'],
	healthy: ['validating'],
	failed: ['booting', 'validating'],
};

export function nextPhase(current: NodePhase, requested: NodePhase): PhaseStep {
	if (requested === 'failed' && current !== 'failed') return {ok: true, phase: 'failed'};
	if (FOLLOWS[current].includes(requested)) return {ok: true, phase: requested};
	if (current === requested) return {ok: false, why: `already ${current}`};
	return {ok: false, why: `${requested} cannot follow ${current}`};
}
