// The quorum guard: before an operation takes members away (a fault, a node
// stop or remove), say what it costs. Pure: the caller says which members are
// already gone (dead, frozen, isolated, stopped) and which the operation takes.

export type QuorumInput = {
	// The control-plane members of the plan (the Raft voters).
	members: readonly string[];
	// Members already unable to vote.
	alreadyDown: readonly string[];
	// Members this operation takes away.
	takes: readonly string[];
	// What the operation is, for the message: "stopping", "killing", "isolating".
	verb: string;
};

export type QuorumVerdict = {
	members: number;
	needed: number;
	upBefore: number;
	upAfter: number;
	losesQuorum: boolean;
	// Quorum was already gone before this operation.
	alreadyLost: boolean;
	message: string;
};

export function quorumNeeded(members: number): number {
	return Math.floor(members / 2) + 1;
}

export function quorumVerdict(input: QuorumInput): QuorumVerdict {
	const members = new Set(input.members);
	const down = new Set(input.alreadyDown.filter(name => members.has(name)));
	const taken = [...new Set(input.takes)].filter(name => members.has(name) && !down.has(name));
	const total = members.size;
	const needed = quorumNeeded(total);
	const upBefore = total - down.size;
	const upAfter = upBefore - taken.length;
	const alreadyLost = upBefore < needed;
	const losesQuorum = !alreadyLost && upAfter < needed;
	const who = input.takes.length > 0 ? input.takes.join(', ') : 'nothing';
	let message: string;
	if (taken.length === 0) message = `${input.verb} ${who} takes no voting member away: ${upAfter} of ${total} members stay up`;
	else if (alreadyLost) message = `${input.verb} ${who} leaves ${upAfter} of ${total} members: the cluster already has no quorum (needs ${needed})`;
	else if (losesQuorum) message = `${input.verb} ${who} leaves ${upAfter} of ${total} members: the cluster loses quorum (needs ${needed})`;
	else message = `${input.verb} ${who} leaves ${upAfter} of ${total} members: quorum holds (needs ${needed})`;
	return {members: total, needed, upBefore, upAfter, losesQuorum, alreadyLost, message};
}
