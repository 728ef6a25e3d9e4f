import {createHash} from 'node:crypto';
import {withAccel, type Plan} from './plan.js';

// `up` on a cluster that is already up and validated: whether it may skip
// preflight, boot and install and only validate again, and why (or why not).

// The plan a run was made from, as one string: the accelerator preflight picks
// is left out (a rerun does not probe), everything else counts.
export function planDigest(plan: Plan): string {
	const {accelNote: _note, ...rest} = withAccel(plan, 'tcg');
	return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

export type RerunFacts = {
	nodes: ReadonlyArray<{name: string}>;
	digest: string;
	// The state file, absent when nothing ever ran here.
	state?: {
		lifecycle?: {cluster: string; stoppedNodes: string[]};
		faults?: readonly unknown[];
		membership?: {action: string; node: string};
		snapshot?: {action: string; name: string};
		nodes: Record<string, {phase: string} | undefined>;
	};
	// Every process on record with whether it still runs (the same pid and command line).
	processes: ReadonlyArray<{kind: string; node?: string; pid?: number; status: string; startedAt: string; alive: boolean}>;
	// The last validation's report, absent when none was written.
	report?: {ok: boolean; planDigest?: string; finishedAt: string};
};

// rerun: nothing to boot or install; otherwise why (undefined: nothing runs, a plain first up).
export type RerunVerdict = {rerun: true; why: string} | {rerun: false; why?: string};

export function rerunVerdict(facts: RerunFacts): RerunVerdict {
	const {state, report} = facts;
	const running = facts.processes.filter(p => p.status === 'running' || p.status === 'starting');
	if (!state || !running.some(p => p.alive)) return {rerun: false};
	const no = (why: string): RerunVerdict => ({rerun: false, why});
	if (state.lifecycle && state.lifecycle.cluster !== 'running') return no(`the cluster is ${state.lifecycle.cluster}`);
	if (state.lifecycle && state.lifecycle.stoppedNodes.length > 0) return no(`${state.lifecycle.stoppedNodes.join(', ')} stopped on purpose`);
	if (state.membership) return no(`node ${state.membership.action} ${state.membership.node} did not finish`);
	if (state.snapshot) return no(`snapshot ${state.snapshot.action} ${state.snapshot.name} did not finish`);
	if ((state.faults?.length ?? 0) > 0) return no(`${state.faults!.length} fault(s) active`);
	const dead = running.filter(p => !p.alive);
	if (dead.length > 0) return no(`${dead.map(p => `${p.node ? `${p.node}'s ` : ''}${p.kind}${p.pid ? ` (pid ${p.pid})` : ''}`).join(', ')} no longer running`);
	const noQemu = facts.nodes.filter(n => !running.some(p => p.kind === 'qemu' && p.node === n.name));
	if (noQemu.length > 0) return no(`${noQemu.map(n => n.name).join(', ')} not running`);
	const unhealthy = facts.nodes.filter(n => state.nodes[n.name]?.phase !== 'healthy');
	if (unhealthy.length > 0) return no(`${unhealthy.map(n => `${n.name} is ${state.nodes[n.name]?.phase ?? 'unknown'}`).join(', ')}`);
	if (!report) return no('no validation report');
	if (!report.ok) return no('the last validation failed');
	if (report.planDigest === undefined) return no('the last validation did not record its plan');
	if (report.planDigest !== facts.digest) return no('the plan changed since the last validation');
	const lastStart = running.filter(p => p.kind === 'qemu').map(p => p.startedAt).sort().at(-1)!;
	if (Date.parse(report.finishedAt) < Date.parse(lastStart)) return no('a node started again after the last validation');
	return {rerun: true, why: `state file says running, ${running.length} processes alive, plan unchanged, last validation green at ${report.finishedAt}`};
}
