// What an operator can do to one node of a running cluster, from the TUI or `plasma-tui node`.
export const NODE_POWER_ACTIONS = ['stop', 'start', 'restart'] as const;
export type NodePowerAction = (typeof NODE_POWER_ACTIONS)[number];

// The quorum guard's answer before the action, as both front ends show it.
export type NodePowerGuard = {message: string; losesQuorum: boolean};
