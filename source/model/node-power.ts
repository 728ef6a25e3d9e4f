import {quorumVerdict, type QuorumVerdict} from './quorum.js';

// What an operator can do to one node of a running cluster, from the TUI or `plasma-tui node`.
export const NODE_POWER_ACTIONS = ['stop', 'start', 'restart'] as const;
export type NodePowerAction = (typeof NODE_POWER_ACTIONS)[number];

// The quorum guard's answer before the action, as both front ends show it.
export type NodePowerGuard = {message: string; losesQuorum: boolean};

// A start takes no member away; it says how many members are up before and after it.
export function startGuard(node: string, members: readonly string[], alreadyDown: readonly string[]): NodePowerGuard {
	const up = members.length - alreadyDown.filter(name => members.includes(name)).length;
	const after = members.includes(node) && alreadyDown.includes(node) ? up + 1 : up;
	return {message: `starting ${node}: ${up} of ${members.length} members up before, ${after} after`, losesQuorum: false};
}

const VERBS: Record<NodePowerAction, string> = {stop: 'stopping', start: 'starting', restart: 'restarting'};

// What the action costs the control-plane members, given who is already down (membersDown).
export function nodePowerDecision(members: readonly string[], name: string, action: NodePowerAction, alreadyDown: readonly string[]): QuorumVerdict {
	const verdict = quorumVerdict({members, alreadyDown, takes: action === 'start' ? [] : [name], verb: VERBS[action]});
	return action === 'start' ? {...verdict, ...startGuard(name, members, alreadyDown)} : verdict;
}
