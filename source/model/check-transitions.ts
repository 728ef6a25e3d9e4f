import type {CheckFacts} from './check-facts.js';

// Watch mode's rule, pure: what a round of check results changed. The first
// result of a check is news, then only ok -> failed and back (a failure whose
// reason changes is still the same failure); facts are news when they change.

export type CheckStatus = 'ok' | 'failed' | 'not-run';

export type ObservedCheck = {check: string; node?: string; status: CheckStatus; reason?: string; detail?: string; facts?: CheckFacts};

export type CheckTransition = {check: string; node?: string; from?: CheckStatus; to: CheckStatus; reason?: string; detail?: string; at: string};

export type FactChange = {check: string; fact: string; from?: string; to: string; at: string};

export type CheckMemory = {readonly statuses: Readonly<Record<string, CheckStatus>>; readonly facts: Readonly<Record<string, string>>};

export const EMPTY_CHECK_MEMORY: CheckMemory = {statuses: {}, facts: {}};

export function checkKey(result: {check: string; node?: string}): string {
	return `${result.node ?? 'cluster'}\u0000${result.check}`;
}

export function checkTransitions(memory: CheckMemory, results: readonly ObservedCheck[], at: string): {memory: CheckMemory; transitions: CheckTransition[]; facts: FactChange[]} {
	const statuses = {...memory.statuses};
	const known = {...memory.facts};
	const transitions: CheckTransition[] = [];
	const facts: FactChange[] = [];
	for (const result of results) {
		const key = checkKey(result);
		const from = statuses[key];
		if (from !== result.status) {
			transitions.push({check: result.check, node: result.node, from, to: result.status, reason: result.status === 'ok' ? undefined : result.reason, detail: result.detail, at});
			statuses[key] = result.status;
		}
		for (const [fact, value] of Object.entries(result.facts ?? {})) {
			const factKey = `${result.check}\u0000${fact}`;
			const before = known[factKey];
			if (before === String(value)) continue;
			facts.push({check: result.check, fact, from: before, to: String(value), at});
			known[factKey] = String(value);
		}
	}
	return {memory: {statuses, facts: known}, transitions, facts};
}

export function allGreen(results: readonly ObservedCheck[]): boolean {
	return results.length > 0 && results.every(r => r.status === 'ok');
}
