import type {NodeRole, NodeSpec, Profile, PushCommand} from './profile-schema.js';
import type {NodeInstallPlan} from './install-plan.js';
import {membersDownBy, type ActiveFault} from './fault.js';
import {type Problem} from './field-error.js';
import {MAX_NODES} from './profile-rules.js';
import {defaultNodeName, resolveNodes} from './resolve.js';
import {quorumVerdict, type QuorumVerdict} from './quorum.js';

// Nodes that come and go on a running cluster (`node add`, `node remove`), as
// pure edits of the profile. A running node keeps its name, address, MAC and
// SSH port and switch port whatever happens to the others: values that auto-assignment would
// now give differently are written into the profile as overrides.

// The name the wizard would give the next node: nodeNN after the count, the next free one when taken.
export function nextNodeName(profile: Profile): string {
	const names = new Set(profile.nodes.map(n => n.name));
	let name = defaultNodeName(profile.nodes.length);
	for (let k = profile.nodes.length + 1; names.has(name); k++) name = defaultNodeName(k);
	return name;
}

// The profile with one more node at the end: its IP, MAC and SSH port come from
// the same auto-assignment as the wizard's (resolve.ts), no other node changes.
export function withAddedNode(profile: Profile, role: NodeRole): {profile: Profile; node: string} | Problem {
	if (profile.nodes.length >= MAX_NODES) return {field: 'nodes', message: `"${profile.name}" has ${profile.nodes.length} nodes already, the most a profile may have`, fix: 'remove a node first'};
	const node: NodeSpec = {name: nextNodeName(profile), role};
	return {profile: {...profile, nodes: [...profile.nodes, node]}, node: node.name};
}

// The profile without `name`; every node after it keeps what it had (auto-assignment follows position).
export function withRemovedNode(profile: Profile, name: string): Profile | Problem {
	const index = profile.nodes.findIndex(n => n.name === name);
	if (index < 0) return {field: 'node', message: `"${profile.name}" has no node named "${name}"`, fix: `one of: ${profile.nodes.map(n => n.name).join(', ')}`};
	const before = new Map(resolveNodes(profile).map(n => [n.name, n]));
	let nodes = profile.nodes.filter(n => n.name !== name);
	const after = new Map(resolveNodes({...profile, nodes}).map(n => [n.name, n]));
	nodes = nodes.map(spec => {
		const was = before.get(spec.name)!;
		const now = after.get(spec.name)!;
		const kept: NodeSpec = {...spec};
		if (now.ip !== was.ip) kept.ip = was.ip;
		if (now.mac !== was.mac) kept.mac = was.mac;
		if (now.sshPort !== was.sshPort) kept.sshPort = was.sshPort;
		if (now.switchPort !== was.switchPort) kept.switchPort = was.switchPort;
		return kept;
	});
	// A host key pinned for it in the profile would hold for a later node of the same name.
	const hostKeys = Object.fromEntries(Object.entries(profile.ssh.hostKeys).filter(([node]) => node !== name));
	return {...profile, nodes, ssh: {...profile.ssh, hostKeys}};
}

export function isProblem(value: object): value is Problem {
	return 'message' in value;
}

export type RemoveDecision = {verdict: QuorumVerdict; refused: boolean};

// The quorum guard of `node remove`: what taking `name` away costs, given the
// members already down. A remove that loses quorum is refused unless forced.
export function removeDecision(input: {controlPlane: readonly string[]; down: readonly string[]; name: string; force: boolean}): RemoveDecision {
	const verdict = quorumVerdict({members: input.controlPlane, alreadyDown: input.down, takes: [input.name], verb: 'removing'});
	return {verdict, refused: (verdict.losesQuorum || verdict.alreadyLost) && !input.force};
}

// Adding a control plane grows the member count before the new member runs
// (etcd's `member add` comes first): with members already down that can cost
// quorum until it starts, and etcd refuses such a change itself.
export function addControlPlaneDecision(input: {controlPlane: readonly string[]; down: readonly string[]; name: string; force: boolean}): RemoveDecision {
	const verdict = quorumVerdict({members: [...input.controlPlane, input.name], alreadyDown: [...input.down, input.name], takes: [], verb: `adding ${input.name}`});
	const message = `adding ${input.name}: until it starts, ${verdict.upAfter} of ${verdict.members} members are up: ${verdict.alreadyLost ? 'the cluster has no quorum' : 'quorum holds'} (needs ${verdict.needed})`;
	return {verdict: {...verdict, message}, refused: verdict.alreadyLost && !input.force};
}

// How a membership change that stopped half-way (its record in the state file) is finished or undone.
export function recovery(change: {action: 'add' | 'remove'; node: string; step: string; startedAt: string}): string {
	const how = change.action === 'add' ? `undo it with "plasma-tui node remove ${change.node} --force" (then add again)` : `finish it with "plasma-tui node remove ${change.node}"`;
	return `node ${change.action} ${change.node} stopped at step "${change.step}" (started ${change.startedAt}); the state file records it: ${how}`;
}

// What the state file says about the members, as far as voting goes.
export type MembersState = {faults?: readonly ActiveFault[]; lifecycle?: {stoppedNodes: readonly string[]}; nodes?: Record<string, {phase: string}>};

// The one rule for "control planes that cannot vote now", every quorum guard's
// starting point: a fault takes them away (killed, powered down, frozen,
// isolated, cut off by a partition), they were stopped on purpose, their QEMU
// does not run (alive: the nodes whose QEMU runs), or the node failed.
export function membersDown(plan: {nodes: ReadonlyArray<{name: string; role: NodeRole}>}, state: MembersState | undefined, alive: ReadonlySet<string>): string[] {
	const members = plan.nodes.filter(n => n.role === 'control-plane').map(n => n.name);
	const byFault = new Set(membersDownBy(state?.faults ?? [], members));
	const stopped = new Set(state?.lifecycle?.stoppedNodes ?? []);
	return members.filter(name => byFault.has(name) || stopped.has(name) || !alive.has(name) || state?.nodes?.[name]?.phase === 'failed');
}

// A push command of a node that stays, to run again after a control plane came or went.
export type MemberListCommand = {node: string; field: string; command: string};

type NodeInstall = {name: string; install: NodeInstallPlan};

// What names the control-plane members on the nodes that stay, besides /etc/hosts: push commands
// whose template uses {etcdEndpoints} (the demo's workers: etcd grpc-proxy --endpoints). Their text
// after the change differs from what ran; they run again (the profile's command must restart what
// it started, as the demo's does). {etcdInitialCluster} is left alone: a member that has its data
// directory ignores it, and restarting members would cost the quorum the change keeps.
export function memberListCommands(templates: readonly PushCommand[], before: {nodes: readonly NodeInstall[]}, after: {nodes: readonly NodeInstall[]}): MemberListCommand[] {
	const usesMembers = (field: string) => {
		const template = templates[Number(/^install\.push\.commands\[(\d+)\]$/.exec(field)?.[1] ?? -1)];
		return template !== undefined && (typeof template === 'string' ? template : template.run).includes('{etcdEndpoints}');
	};
	return after.nodes.flatMap(({name, install}) => {
		const was = before.nodes.find(candidate => candidate.name === name)?.install;
		if (install.method !== 'push' || was?.method !== 'push') return [];
		return install.commands.flatMap((command, index) => {
			const field = install.commandFields[index] ?? '';
			return usesMembers(field) && !was.commands.includes(command) ? [{node: name, field, command}] : [];
		});
	});
}
