import {z} from 'zod';
import {CheckFailure, defineCheck} from './check-definition.js';
import {controlPlaneOf, etcdCall} from './check-helpers.js';

type Member = {ID?: string; name?: string};

// Quorum holds while a majority of the planned members answer, agree on one
// cluster and one member list, and see the same leader. Nodes that each
// bootstrapped a cluster of their own (T036's trap) show up as different ids.
export const raftQuorumCheck = defineCheck({
	type: 'raft-quorum',
	params: z.strictObject({port: z.number().int().default(2379)}),
	example: {port: 2379},
	scope: 'cluster',
	// A majority of the members answering is a quorum: it need not wait for the last one.
	startsWhen: 'all',
	name: spec => `${spec.type} :${spec.port}`,
	port: spec => spec.port,
	async run(spec, context) {
		const controlPlane = controlPlaneOf(context);
		// Counted from the plan: a node without an SSH connection is still a member.
		const planned = context.plan.nodes.filter(n => n.role === 'control-plane').length;
		const answers = await Promise.allSettled(
			controlPlane.map(async access => {
				const [members, status] = await Promise.all([etcdCall(context, access, spec.port, '/v3/cluster/member/list', {}), etcdCall(context, access, spec.port, '/v3/maintenance/status', {})]);
				const list = (members['members'] as Member[] | undefined) ?? [];
				return {
					node: access.node.name,
					clusterId: String((members['header'] as {cluster_id?: string} | undefined)?.cluster_id),
					members: list.map(m => m.name ?? m.ID ?? '?').sort(),
					leader: String(status['leader'] ?? '0'),
					// The leader's member name when the list names it, else its id.
					leaderName: list.find(m => m.ID !== undefined && m.ID === String(status['leader']))?.name,
					term: Number(status['raftTerm'] ?? (status['header'] as {raft_term?: string} | undefined)?.raft_term ?? 0),
				};
			}),
		);
		const ok = answers.flatMap(a => (a.status === 'fulfilled' ? [a.value] : []));
		const absent = context.plan.nodes.filter(n => n.role === 'control-plane' && !controlPlane.some(a => a.node.name === n.name)).map(n => n.name);
		// Still installing (up's pipelined validation): not silent, only not there yet.
		const installing = absent.filter(name => context.pending?.includes(name));
		const silent = [...controlPlane.filter((_, index) => answers[index]!.status === 'rejected').map(a => a.node.name), ...absent.filter(name => !installing.includes(name))];
		const majority = Math.floor(planned / 2) + 1;
		if (ok.length < majority) throw new CheckFailure(`no quorum: ${ok.length} of ${planned} members answer (need ${majority}); silent: ${[...silent, ...installing].join(', ')}`);
		const ids = new Set(ok.map(a => a.clusterId));
		if (ids.size > 1) throw new CheckFailure(`members report different cluster ids (${ok.map(a => `${a.node}: ${a.clusterId}`).join(', ')}): nodes bootstrapped separate clusters`);
		const lists = new Set(ok.map(a => a.members.join(',')));
		if (lists.size > 1) throw new CheckFailure(`members disagree on the member list: ${ok.map(a => `${a.node}: [${a.members.join(', ')}]`).join('; ')}`);
		const memberCount = ok[0]!.members.length;
		if (memberCount !== planned) throw new CheckFailure(`${memberCount} members, expected the ${planned} planned control-plane nodes`);
		const leaders = new Set(ok.map(a => a.leader));
		if (leaders.has('0') || leaders.size > 1) throw new CheckFailure(`no agreed leader (${ok.map(a => `${a.node}: ${a.leader}`).join(', ')})`);
		const leader = ok.find(a => a.leaderName)?.leaderName ?? [...leaders][0]!;
		// Members answer at slightly different moments: the highest term seen is the cluster's.
		const term = Math.max(...ok.map(a => a.term));
		return {
			detail: `${memberCount} members, leader ${[...leaders][0]}, ${ok.length} of ${planned} answering${silent.length > 0 ? ` (silent: ${silent.join(', ')})` : ''}${installing.length > 0 ? ` (still installing: ${installing.join(', ')})` : ''}`,
			facts: {leader, term, members: memberCount},
		};
	},
});
