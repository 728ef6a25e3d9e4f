import {ProblemError} from '../model/field-error.js';
import {failureReason} from '../model/failure-reason.js';
import type {NodePlan} from '../model/plan.js';
import type {NodeSsh} from './ssh.js';
import {shellQuote} from './shell-quote.js';

// etcd's own membership protocol, run with etcdctl on a member over SSH, with
// that member's client certificate (the files the checks present too):
// `member add` before a new member starts, `member remove` before one stops.

export type EtcdMember = {id: string; status: string; name: string; peerUrls: string[]};

const ETCDCTL_TIMEOUT_MS = 60_000;

// `etcdctl member list -w simple`: "8e9e05c52164694d, started, node01, https://node01:2380, https://node01:2379, false".
// An added member that has not started yet has no name. IDs stay hex text: JSON output would lose their low bits in a JS number.
export function parseMemberList(text: string): EtcdMember[] {
	return text
		.split('\n')
		.map(line => line.trim())
		.filter(Boolean)
		.map(line => {
			const [id = '', status = '', name = '', peers = ''] = line.split(',').map(field => field.trim());
			return {id, status, name, peerUrls: peers.split(/\s+/).filter(Boolean)};
		})
		.filter(member => /^[0-9a-f]+$/.test(member.id));
}

export function etcdctlCommand(member: Pick<NodePlan, 'etcd' | 'secrets'>, args: string[]): string {
	const flags = [`--endpoints=${member.etcd.clientUrl}`, `--cacert=${member.secrets.remoteCa}`, `--cert=${member.secrets.remoteCert}`, `--key=${member.secrets.remoteKey}`, '--command-timeout=15s'];
	return ['ETCDCTL_API=3', 'etcdctl', ...[...flags, ...args].map(shellQuote)].join(' ');
}

async function etcdctl(ssh: Pick<NodeSsh, 'exec'>, member: NodePlan, args: string[], signal?: AbortSignal): Promise<string> {
	const result = await ssh.exec(etcdctlCommand(member, args), {timeoutMs: ETCDCTL_TIMEOUT_MS, signal});
	if (result.code !== 0) throw new ProblemError({message: `etcdctl ${args.slice(0, 2).join(' ')} on ${member.name} exited ${result.code ?? result.signal}: ${failureReason(result)}`, fix: `check etcd on ${member.name}: plasma-tui console ${member.name}, or /var/log/etcd.log there`});
	return result.stdout;
}

export async function listMembers(ssh: Pick<NodeSsh, 'exec'>, member: NodePlan, signal?: AbortSignal): Promise<EtcdMember[]> {
	return parseMemberList(await etcdctl(ssh, member, ['member', 'list', '-w', 'simple'], signal));
}

// etcd refuses a membership change with "unhealthy cluster" until its leader has been connected to a
// quorum for 5 s (etcdserver's HealthInterval): right after a member restarted, the change is tried again.
export const UNHEALTHY_RETRY = {withinMs: 30_000, everyMs: 2_000};

async function reconfigure(ssh: Pick<NodeSsh, 'exec'>, member: NodePlan, args: string[], signal?: AbortSignal, retry = UNHEALTHY_RETRY): Promise<void> {
	const deadline = Date.now() + retry.withinMs;
	for (;;) {
		try {
			await etcdctl(ssh, member, args, signal);
			return;
		} catch (error) {
			const unhealthy = error instanceof ProblemError && error.problem.message.includes('unhealthy cluster');
			if (!unhealthy || Date.now() + retry.everyMs > deadline || signal?.aborted) throw error;
			await new Promise(resolve => setTimeout(resolve, retry.everyMs));
		}
	}
}

// Idempotent: a member already listed with the joiner's peer URL (a rerun after a crash) is not added twice.
export async function addMember(ssh: Pick<NodeSsh, 'exec'>, member: NodePlan, joiner: NodePlan, signal?: AbortSignal, retry = UNHEALTHY_RETRY): Promise<'added' | 'already a member'> {
	const members = await listMembers(ssh, member, signal);
	if (members.some(m => m.peerUrls.includes(joiner.etcd.peerUrl))) return 'already a member';
	await reconfigure(ssh, member, ['member', 'add', joiner.name, `--peer-urls=${joiner.etcd.peerUrl}`], signal, retry);
	return 'added';
}

// Found by name or, for one that never started, by peer URL; one that is no member is left alone.
export async function removeMember(ssh: Pick<NodeSsh, 'exec'>, member: NodePlan, leaver: NodePlan, signal?: AbortSignal): Promise<'removed' | 'not a member'> {
	const members = await listMembers(ssh, member, signal);
	const found = members.find(m => m.name === leaver.name || m.peerUrls.includes(leaver.etcd.peerUrl));
	if (!found) return 'not a member';
	await reconfigure(ssh, member, ['member', 'remove', found.id], signal);
	return 'removed';
}
