import {z} from 'zod';
import type {Problem} from './field-error.js';

// The faults a rehearsal can put on a running cluster, as the state file
// records them while they are active. Pure: what a fault means for quorum,
// what a node's pane says about it, how the operator's words parse.

const at = z.string();
const node = z.string();

export const activeFaultSchema = z.discriminatedUnion('kind', [
	// The node's QEMU was killed (SIGKILL) or powered down: gone until it boots again.
	z.strictObject({kind: z.literal('killed'), node, at}),
	z.strictObject({kind: z.literal('powered-down'), node, at}),
	// QMP stop: the VM hangs without dying, until thaw (QMP cont).
	z.strictObject({kind: z.literal('frozen'), node, at}),
	// The cluster NIC's link is down (QMP set_link), until heal.
	z.strictObject({kind: z.literal('isolated'), node, at}),
	// Each group in its own VLAN of the switch; vlans[i] is the VLAN of groups[i].
	z.strictObject({kind: z.literal('partition'), groups: z.array(z.array(node)), vlans: z.array(z.number().int()), at}),
	// The node's wirefilter, in the node's outgoing direction.
	z.strictObject({
		kind: z.literal('impaired'),
		node,
		at,
		delayMs: z.number().nonnegative().optional(),
		jitterMs: z.number().nonnegative().optional(),
		lossPercent: z.number().min(0).max(100).optional(),
		bandwidthBytes: z.number().nonnegative().optional(),
	}),
]);

export type ActiveFault = z.infer<typeof activeFaultSchema>;
export type Impairment = Pick<Extract<ActiveFault, {kind: 'impaired'}>, 'delayMs' | 'jitterMs' | 'lossPercent' | 'bandwidthBytes'>;

export const NODE_FAULTS = ['kill', 'freeze', 'thaw', 'reboot', 'powerdown'] as const;
export const IMPAIRMENTS = ['delay', 'jitter', 'loss', 'bandwidth'] as const;
export const FAULT_ACTIONS = [...NODE_FAULTS, 'isolate', 'heal', 'partition', ...IMPAIRMENTS] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];
export type ImpairmentKind = (typeof IMPAIRMENTS)[number];

// What the operator asked for, parsed: one action on one node, a partition, or a heal/thaw of one node or all.
export type FaultRequest =
	| {action: 'kill' | 'freeze' | 'reboot' | 'powerdown' | 'isolate'; node: string}
	| {action: 'thaw' | 'heal'; node?: string}
	| {action: 'partition'; groups: string[][]}
	| {action: ImpairmentKind; node: string; value: number};

// Nodes that cannot vote while these faults are active. A partition leaves
// only the group holding most control-plane members able to form a quorum.
export function membersDownBy(faults: readonly ActiveFault[], members: readonly string[]): string[] {
	const down = new Set<string>();
	for (const fault of faults) {
		if (fault.kind === 'partition') for (const name of outsideBestGroup(fault.groups, members)) down.add(name);
		else if (fault.kind !== 'impaired') down.add(fault.node);
	}
	return [...down];
}

// The members a partition cuts off from the group with most members.
export function outsideBestGroup(groups: readonly string[][], members: readonly string[]): string[] {
	const count = (group: readonly string[]) => group.filter(name => members.includes(name)).length;
	const best = [...groups].sort((a, b) => count(b) - count(a))[0] ?? [];
	return members.filter(name => !best.includes(name));
}

// The short markers of a node's pane and of `status`: "frozen", "isolated", "delay 200ms".
export function faultMarkers(faults: readonly ActiveFault[], name: string): string[] {
	const markers: string[] = [];
	for (const fault of faults) {
		if (fault.kind === 'partition') {
			const index = fault.groups.findIndex(group => group.includes(name));
			if (index >= 0) markers.push(`partition ${index + 1}/${fault.groups.length}`);
			continue;
		}
		if (fault.node !== name) continue;
		if (fault.kind === 'impaired') markers.push(...impairmentWords(fault));
		else markers.push(fault.kind);
	}
	return markers;
}

export function impairmentWords(impairment: Impairment): string[] {
	const words: string[] = [];
	if (impairment.delayMs) words.push(`delay ${impairment.delayMs}ms`);
	if (impairment.jitterMs) words.push(`jitter ${impairment.jitterMs}ms`);
	if (impairment.lossPercent) words.push(`loss ${impairment.lossPercent}%`);
	if (impairment.bandwidthBytes) words.push(`bandwidth ${formatRate(impairment.bandwidthBytes)}`);
	return words;
}

// A whole-cluster snapshot would thaw frozen nodes and save or load links and
// VLANs the fault record no longer matches: refused while any fault is active.
export function faultsBlock(faults: readonly ActiveFault[], what: string): Problem | undefined {
	if (faults.length === 0) return undefined;
	return {message: `${what} is refused while faults are active: ${faults.map(describeFault).join('; ')}`, fix: 'plasma-tui fault heal; plasma-tui fault thaw'};
}

// A node's faults that live in its QEMU (a kill, a powerdown, a QMP stop, a
// link set down): gone once that QEMU is stopped or a new one boots.
export function endedWithQemu(faults: readonly ActiveFault[], name: string): ActiveFault[] {
	return faults.filter(f => (f.kind === 'killed' || f.kind === 'powered-down' || f.kind === 'frozen' || f.kind === 'isolated') && f.node === name);
}

// A frozen guest ignores the ACPI power button: it is thawed before a stop.
export function isFrozen(faults: readonly ActiveFault[], name: string): boolean {
	return faults.some(f => f.kind === 'frozen' && f.node === name);
}

// A node removed while heal or thaw still has to undo a fault naming it would
// leave a record no later heal can undo (a partition naming an unknown node).
export function removeRefusal(faults: readonly ActiveFault[], name: string): Problem | undefined {
	const naming = faults.filter(f => (f.kind === 'partition' ? f.groups.some(group => group.includes(name)) : f.node === name && f.kind !== 'killed' && f.kind !== 'powered-down'));
	if (naming.length === 0) return undefined;
	return {message: `${name} is in an active fault: ${naming.map(describeFault).join('; ')}`, fix: 'plasma-tui fault heal / plasma-tui fault thaw first'};
}

// One line per active fault, for `status` and the heal report.
export function describeFault(fault: ActiveFault): string {
	if (fault.kind === 'partition') return `partition ${fault.groups.map(group => group.join(',')).join(' | ')}`;
	if (fault.kind === 'impaired') return `${fault.node}: ${impairmentWords(fault).join(', ') || 'no impairment'}`;
	return `${fault.node}: ${fault.kind}`;
}

function formatRate(bytesPerSecond: number): string {
	const bits = bytesPerSecond * 8;
	if (bits >= 1e6 && bits % 1e5 === 0) return `${bits / 1e6}mbit`;
	if (bits >= 1e3 && bits % 1e3 === 0) return `${bits / 1e3}kbit`;
	return `${bytesPerSecond}B/s`;
}

// "200ms", "1.5s", "200" (ms) -> milliseconds.
export function parseDuration(text: string): number | undefined {
	const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
	if (!match) return undefined;
	const value = Number(match[1]) * (match[2] === 's' ? 1000 : 1);
	return Number.isFinite(value) ? Math.round(value) : undefined;
}

// "10%", "10" -> percent in 0..100.
export function parsePercent(text: string): number | undefined {
	const match = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
	const value = match ? Number(match[1]) : Number.NaN;
	return value >= 0 && value <= 100 ? value : undefined;
}

// "1mbit", "512kbit", "100000" (bytes/s), "2MB" -> bytes per second.
export function parseRate(text: string): number | undefined {
	const match = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit|kb|mb|b)?$/i.exec(text.trim());
	if (!match) return undefined;
	const unit = (match[2] ?? 'b').toLowerCase();
	const factor: Record<string, number> = {b: 1, kb: 1e3, mb: 1e6, kbit: 1e3 / 8, mbit: 1e6 / 8, gbit: 1e9 / 8};
	const value = Math.round(Number(match[1]) * factor[unit]!);
	return value > 0 ? value : undefined;
}

// "node01,node02|node03" or ["node01,node02", "node03"] -> [["node01","node02"],["node03"]].
export function parseGroups(words: readonly string[]): string[][] {
	return words
		.join('|')
		.split('|')
		.map(group => group.split(',').map(name => name.trim()).filter(Boolean))
		.filter(group => group.length > 0);
}

export type ParsedFault = {ok: true; request: FaultRequest} | {ok: false; message: string};

const USAGE_LINES = [
	'fault kill|freeze|reboot|powerdown|isolate NODE',
	'fault thaw [NODE] | fault heal [NODE]',
	'fault partition A,B C,D,E   (or "A,B|C,D,E")',
	'fault delay|jitter NODE 200ms | fault loss NODE 10% | fault bandwidth NODE 1mbit',
];
export const FAULT_USAGE = `usage: plasma-tui ${USAGE_LINES.join('\n       plasma-tui ')}`;

// The words after `fault`, checked against the plan's node names.
export function parseFault(words: readonly string[], nodes: readonly string[]): ParsedFault {
	const [action, ...rest] = words;
	const known = (name: string | undefined): string | undefined => (name === undefined ? 'needs a NODE' : nodes.includes(name) ? undefined : `unknown node "${name}" (nodes: ${nodes.join(', ')})`);
	const fail = (message: string): ParsedFault => ({ok: false, message: `fault ${action ?? ''}: ${message}`});
	switch (action) {
		case 'kill':
		case 'freeze':
		case 'reboot':
		case 'powerdown':
		case 'isolate': {
			const problem = known(rest[0]) ?? (rest.length > 1 ? `takes one NODE, got ${rest.join(' ')}` : undefined);
			return problem ? fail(problem) : {ok: true, request: {action, node: rest[0]!}};
		}
		case 'thaw':
		case 'heal': {
			if (rest.length === 0) return {ok: true, request: {action}};
			const problem = known(rest[0]) ?? (rest.length > 1 ? `takes at most one NODE, got ${rest.join(' ')}` : undefined);
			return problem ? fail(problem) : {ok: true, request: {action, node: rest[0]!}};
		}
		case 'partition': {
			const groups = parseGroups(rest);
			if (groups.length < 2) return fail('needs at least two groups, e.g. "node01,node02 node03"');
			const all = groups.flat();
			const unknown = all.find(name => !nodes.includes(name));
			if (unknown) return fail(known(unknown)!);
			const twice = all.find((name, index) => all.indexOf(name) !== index);
			if (twice) return fail(`${twice} is in two groups`);
			// A node left out stays with the first group: every node is somewhere.
			const missing = nodes.filter(name => !all.includes(name));
			return {ok: true, request: {action, groups: missing.length > 0 ? [[...groups[0]!, ...missing], ...groups.slice(1)] : groups}};
		}
		case 'delay':
		case 'jitter':
		case 'loss':
		case 'bandwidth': {
			const problem = known(rest[0]) ?? (rest[1] === undefined ? `needs a value, e.g. ${EXAMPLE_VALUE[action]}` : undefined);
			if (problem) return fail(problem);
			const value = action === 'loss' ? parsePercent(rest[1]!) : action === 'bandwidth' ? parseRate(rest[1]!) : parseDuration(rest[1]!);
			if (value === undefined) return fail(`"${rest[1]}" is not a ${action} value, e.g. ${EXAMPLE_VALUE[action]}`);
			return {ok: true, request: {action, node: rest[0]!, value}};
		}
		default:
			return {ok: false, message: action === undefined ? 'fault: needs an action' : `fault: unknown action "${action}"`};
	}
}

const EXAMPLE_VALUE: Record<ImpairmentKind, string> = {delay: '200ms', jitter: '50ms', loss: '10%', bandwidth: '1mbit'};

// The impairment a request leaves on a node, merged with what it already had.
export function withImpairment(current: Impairment | undefined, kind: ImpairmentKind, value: number): Impairment {
	const next: Impairment = {...current};
	if (kind === 'delay') next.delayMs = value;
	else if (kind === 'jitter') next.jitterMs = value;
	else if (kind === 'loss') next.lossPercent = value;
	else next.bandwidthBytes = value;
	return next;
}

// The members a request takes away (for the quorum guard), given the plan's node names.
export function takenBy(request: FaultRequest, members: readonly string[]): string[] {
	if (request.action === 'partition') return outsideBestGroup(request.groups, members);
	if (['kill', 'freeze', 'powerdown', 'isolate'].includes(request.action) && 'node' in request && request.node) return [request.node];
	return [];
}

// The wirefilter management commands that set an impairment on the node's outgoing direction (LR:
// node side to switch side), and reset what is unset.
export function wirefilterCommands(impairment: Impairment): string[] {
	const delay = impairment.delayMs ?? 0;
	const jitter = impairment.jitterMs ?? 0;
	return [
		`delay LR ${delay}${jitter ? `+${jitter}` : ''}`,
		`loss LR ${impairment.lossPercent ?? 0}`,
		`bandwidth LR ${impairment.bandwidthBytes ?? 0}`,
	];
}
