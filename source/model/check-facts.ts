// What a check learned about the cluster besides pass or fail (raft-quorum: the
// leader, the raft term, the member count). Carried on the check's result and
// event, so the report, the plain line and the timeline can show a leader change.
export type CheckFacts = Record<string, string | number>;

// One attempt's answer: what it saw, and the facts it learned.
export type CheckAnswer = {detail: string; facts?: CheckFacts};

export function answerOf(value: string | CheckAnswer): CheckAnswer {
	return typeof value === 'string' ? {detail: value} : value;
}

export function formatFacts(facts: CheckFacts | undefined): string {
	if (!facts) return '';
	return Object.entries(facts)
		.map(([name, value]) => `${name} ${value}`)
		.join(', ');
}
