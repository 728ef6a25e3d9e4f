import {randomBytes, X509Certificate} from 'node:crypto';
import fs from 'node:fs/promises';
import {setTimeout as sleep} from 'node:timers/promises';
import {ProblemError} from '../model/field-error.js';
import type {CheckSpec} from '../model/profile-schema.js';
import type {NodePlan, Plan} from '../model/plan.js';
import {shellQuote} from './shell-quote.js';
import type {NodeSsh} from './ssh.js';

// One attempt of each check type. The engine polls an attempt until it passes
// or its timeout runs out; an attempt throws with the reason it failed.

export type NodeAccess = {node: NodePlan; ssh: NodeSsh};

export type CheckContext = {
	plan: Plan;
	nodes: NodeAccess[];
	// Where a node's service is reached through its tunnel (tests point it elsewhere).
	target?: (node: NodePlan, port: number) => {host: string; port: number};
	timeoutMs: number;
	signal?: AbortSignal;
};

// Kept by name while the check types move into their own files; it is a ProblemError.
export class CheckFailure extends ProblemError {
	constructor(message: string) {
		super({message});
	}
}

export const CLUSTER_CHECKS = new Set<CheckSpec['type']>(['raft-quorum', 'crud', 'persistence']);

// Pure, so screens and the plan can name checks without loading this file's node modules.
export {checkName} from '../model/check-name.js';

// Read once per node of a plan: every attempt of every check presents the same client certificate.
const secretsRead = new WeakMap<NodePlan, Promise<{ca: string; cert: string; key: string}>>();

function secretsOf(node: NodePlan): Promise<{ca: string; cert: string; key: string}> {
	let secrets = secretsRead.get(node);
	if (!secrets) {
		secrets = Promise.all([fs.readFile(node.secrets.ca, 'utf8'), fs.readFile(node.secrets.cert, 'utf8'), fs.readFile(node.secrets.key, 'utf8')]).then(([ca, cert, key]) => ({ca, cert, key}));
		// A failed read (certificates not written yet) is tried again next time.
		secrets.catch(() => secretsRead.delete(node));
		secretsRead.set(node, secrets);
	}
	return secrets;
}

function where(context: CheckContext, node: NodePlan, port: number): {host: string; port: number} {
	return context.target?.(node, port) ?? {host: node.ip, port};
}

// An etcd v3 JSON gateway call with the node's own client certificate.
export async function etcdCall(context: CheckContext, access: NodeAccess, port: number, api: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
	const target = where(context, access.node, port);
	const secrets = await secretsOf(access.node);
	const response = await access.ssh.httpsRequest({destHost: target.host, port: target.port, path: api, body: JSON.stringify(body), ...secrets, timeoutMs: Math.min(context.timeoutMs, 10_000)});
	if (response.status !== 200) throw new CheckFailure(`${access.node.name}: ${api} answered ${response.status}: ${response.body.slice(0, 120)}`);
	return JSON.parse(response.body) as Record<string, unknown>;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

async function runOnNode(access: NodeAccess, command: string, timeoutMs: number): Promise<{code: number | null; stdout: string; stderr: string}> {
	return access.ssh.exec(command, {timeoutMs});
}

export async function nodeCheckAttempt(spec: CheckSpec, access: NodeAccess, context: CheckContext): Promise<string> {
	const {node, ssh} = access;
	const timeoutMs = Math.min(context.timeoutMs, 15_000);
	switch (spec.type) {
		case 'ssh': {
			const result = await ssh.exec('true', {timeoutMs});
			if (result.code !== 0) throw new CheckFailure(`"true" exited ${result.code}`);
			return `host key ${ssh.hostKey}`;
		}
		case 'l2-mesh': {
			const others = context.plan.nodes.filter(n => n.name !== node.name);
			const results = await Promise.all(others.map(other => runOnNode(access, `ping -c 1 -W 2 ${shellQuote(other.ip)}`, timeoutMs)));
			const unreachable = others.filter((_, index) => results[index]!.code !== 0).map(n => `${n.name} (${n.ip})`);
			if (unreachable.length > 0) throw new CheckFailure(`cannot reach ${unreachable.join(', ')} over the cluster network`);
			return `reaches ${others.length} peers`;
		}
		case 'hosts-resolve': {
			const problems: string[] = [];
			for (const other of context.plan.nodes) {
				const result = await runOnNode(access, `getent hosts ${shellQuote(other.hostname)} 2>/dev/null || ping -c 1 -W 1 ${shellQuote(other.hostname)}`, timeoutMs);
				if (!new RegExp(`(^|[\\s(])${other.ip.replaceAll('.', '\\.')}([\\s):]|$)`, 'm').test(result.stdout)) problems.push(`${other.hostname} (${result.stdout.trim().split('\n')[0] || result.stderr.trim() || 'no answer'})`);
			}
			if (problems.length > 0) throw new CheckFailure(`does not resolve ${problems.join(', ')}`);
			return `resolves all ${context.plan.nodes.length} hostnames`;
		}
		case 'tcp-port': {
			const target = where(context, node, spec.port);
			const stream = await ssh.forwardOut(target.host, target.port);
			stream.destroy();
			return `${target.host}:${target.port} accepts connections`;
		}
		case 'http': {
			const target = where(context, node, spec.port);
			const read = await secretsOf(node);
			const secrets = spec.clientCert ? read : {ca: read.ca};
			const response = await ssh.httpsRequest({destHost: target.host, port: target.port, path: spec.path, https: spec.https, ...secrets, timeoutMs});
			if (response.status !== spec.expectStatus) throw new CheckFailure(`GET ${spec.path} answered ${response.status}, expected ${spec.expectStatus}: ${response.body.slice(0, 120)}`);
			if (spec.jsonField) {
				let value: unknown;
				try {
					value = spec.jsonField.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], JSON.parse(response.body));
				} catch {
					throw new CheckFailure(`GET ${spec.path} did not answer JSON: ${response.body.slice(0, 120)}`);
				}
				if (spec.jsonEquals !== undefined && String(value) !== spec.jsonEquals) throw new CheckFailure(`${spec.jsonField} is ${JSON.stringify(value)}, expected ${spec.jsonEquals}`);
			}
			return `${response.status}`;
		}
		case 'metrics': {
			const target = where(context, node, spec.port);
			const response = await ssh.httpsRequest({destHost: target.host, port: target.port, path: spec.path, https: spec.https, ...(await secretsOf(node)), timeoutMs});
			if (response.status !== 200) throw new CheckFailure(`${spec.path} answered ${response.status}`);
			const samples = response.body.split('\n').filter(line => line && !line.startsWith('#'));
			if (!/^# (HELP|TYPE) /m.test(response.body) || samples.length === 0) throw new CheckFailure(`${spec.path} is not Prometheus text: ${response.body.slice(0, 80)}`);
			return `${samples.length} samples`;
		}
		case 'tls': {
			const target = where(context, node, spec.port);
			const secrets = await secretsOf(node);
			const raw = await ssh.servedCertificate(target.host, target.port, {cert: secrets.cert, key: secrets.key, timeoutMs});
			const served = new X509Certificate(raw);
			const ca = new X509Certificate(secrets.ca);
			if (!served.checkIssued(ca) || !served.verify(ca.publicKey)) {
				throw new CheckFailure(`${node.name} serves a certificate issued by ${served.issuer.replaceAll('\n', ', ')}, not by the profile's CA ${ca.subject.replaceAll('\n', ', ')}`);
			}
			const sans = served.subjectAltName ?? '';
			const missing = [`IP Address:${node.ip}`, `DNS:${node.hostname}`].filter(name => !sans.split(', ').includes(name));
			if (missing.length > 0) throw new CheckFailure(`${node.name}'s certificate lacks ${missing.join(' and ')} (it has ${sans})`);
			return `chains to ${ca.subject.replaceAll('\n', ', ')}, SANs cover ${node.ip} and ${node.hostname}`;
		}
		case 'systemd-unit': {
			const result = await ssh.exec(`systemctl is-active ${shellQuote(spec.unit)}`, {timeoutMs});
			if (result.code !== 0) throw new CheckFailure(`${spec.unit} is ${result.stdout.trim() || 'not active'}`);
			return 'active';
		}
		case 'command': {
			const result = await ssh.exec(spec.command, {timeoutMs});
			if (result.code !== spec.expectExit) throw new CheckFailure(`exited ${result.code}, expected ${spec.expectExit}: ${result.stderr.trim().slice(0, 120)}`);
			if (spec.expectOutput && !new RegExp(spec.expectOutput).test(result.stdout)) throw new CheckFailure(`output does not match /${spec.expectOutput}/: ${result.stdout.trim().slice(0, 120)}`);
			return `exit ${result.code}`;
		}
		default:
			throw new CheckFailure(`${spec.type} is a cluster check`);
	}
}

type Member = {ID?: string; name?: string};

// Quorum holds while a majority of the planned members answer, agree on one
// cluster and one member list, and see the same leader. Nodes that each
// bootstrapped a cluster of their own (T036's trap) show up as different ids.
async function raftQuorum(spec: Extract<CheckSpec, {type: 'raft-quorum'}>, context: CheckContext, controlPlane: NodeAccess[]): Promise<string> {
	// Counted from the plan: a node without an SSH connection is still a member.
	const planned = context.plan.nodes.filter(n => n.role === 'control-plane').length;
	const answers = await Promise.allSettled(
		controlPlane.map(async access => {
			const members = await etcdCall(context, access, spec.port, '/v3/cluster/member/list', {});
			const status = await etcdCall(context, access, spec.port, '/v3/maintenance/status', {});
			return {
				node: access.node.name,
				clusterId: String((members['header'] as {cluster_id?: string} | undefined)?.cluster_id),
				members: ((members['members'] as Member[] | undefined) ?? []).map(m => m.name ?? m.ID ?? '?').sort(),
				leader: String(status['leader'] ?? '0'),
			};
		}),
	);
	const ok = answers.flatMap(a => (a.status === 'fulfilled' ? [a.value] : []));
	const silent = [
		...controlPlane.filter((_, index) => answers[index]!.status === 'rejected').map(a => a.node.name),
		...context.plan.nodes.filter(n => n.role === 'control-plane' && !controlPlane.some(a => a.node.name === n.name)).map(n => n.name),
	];
	const majority = Math.floor(planned / 2) + 1;
	if (ok.length < majority) throw new CheckFailure(`no quorum: ${ok.length} of ${planned} members answer (need ${majority}); silent: ${silent.join(', ')}`);
	const ids = new Set(ok.map(a => a.clusterId));
	if (ids.size > 1) throw new CheckFailure(`members report different cluster ids (${ok.map(a => `${a.node}: ${a.clusterId}`).join(', ')}): nodes bootstrapped separate clusters`);
	const lists = new Set(ok.map(a => a.members.join(',')));
	if (lists.size > 1) throw new CheckFailure(`members disagree on the member list: ${ok.map(a => `${a.node}: [${a.members.join(', ')}]`).join('; ')}`);
	const memberCount = ok[0]!.members.length;
	if (memberCount !== planned) throw new CheckFailure(`${memberCount} members, expected the ${planned} planned control-plane nodes`);
	const leaders = new Set(ok.map(a => a.leader));
	if (leaders.has('0') || leaders.size > 1) throw new CheckFailure(`no agreed leader (${ok.map(a => `${a.node}: ${a.leader}`).join(', ')})`);
	return `${memberCount} members, leader ${[...leaders][0]}, ${ok.length} of ${planned} answering${silent.length > 0 ? ` (silent: ${silent.join(', ')})` : ''}`;
}

async function answering(context: CheckContext, candidates: NodeAccess[], port: number): Promise<NodeAccess[]> {
	const alive = await Promise.all(candidates.map(a => etcdCall(context, a, port, '/v3/maintenance/status', {}).then(() => true, () => false)));
	return candidates.filter((_, index) => alive[index]);
}

async function crud(port: number, context: CheckContext, members: NodeAccess[]): Promise<string> {
	const live = await answering(context, members, port);
	if (live.length === 0) throw new CheckFailure('no member answers');
	const writer = live[0]!;
	const reader = live[live.length > 1 ? 1 : 0]!;
	const key = `plasma-tui/check/${randomBytes(6).toString('hex')}`;
	const value = `written by ${writer.node.name} at ${new Date().toISOString()}`;
	await etcdCall(context, writer, port, '/v3/kv/put', {key: b64(key), value: b64(value)});
	const range = await etcdCall(context, reader, port, '/v3/kv/range', {key: b64(key)});
	const kvs = (range['kvs'] as Array<{value?: string}> | undefined) ?? [];
	if (Buffer.from(kvs[0]?.value ?? '', 'base64').toString() !== value) throw new CheckFailure(`${reader.node.name} did not read back the key ${writer.node.name} wrote`);
	const deleted = await etcdCall(context, reader, port, '/v3/kv/deleterange', {key: b64(key)});
	if (String(deleted['deleted'] ?? '0') !== '1') throw new CheckFailure(`${reader.node.name} could not delete the key`);
	return `written on ${writer.node.name}, read and deleted on ${reader.node.name}`;
}

async function persistence(spec: Extract<CheckSpec, {type: 'persistence'}>, context: CheckContext, members: NodeAccess[]): Promise<string> {
	const live = await answering(context, members, spec.port);
	if (live.length === 0) throw new CheckFailure('no member answers');
	const restarted = live[live.length - 1]!;
	const writer = live[0]!;
	const key = `plasma-tui/persist/${randomBytes(6).toString('hex')}`;
	await etcdCall(context, writer, spec.port, '/v3/kv/put', {key: b64(key), value: b64('kept')});
	const restart = await restarted.ssh.exec(spec.restartCommand, {timeoutMs: 60_000});
	if (restart.code !== 0) throw new CheckFailure(`"${spec.restartCommand}" on ${restarted.node.name} exited ${restart.code}: ${restart.stderr.trim().slice(0, 120)}`);
	const deadline = Date.now() + Math.min(context.timeoutMs, 60_000);
	let lastError = '';
	while (Date.now() < deadline) {
		try {
			const range = await etcdCall(context, restarted, spec.port, '/v3/kv/range', {key: b64(key)});
			const kvs = (range['kvs'] as Array<{value?: string}> | undefined) ?? [];
			if (Buffer.from(kvs[0]?.value ?? '', 'base64').toString() === 'kept') {
				await etcdCall(context, restarted, spec.port, '/v3/kv/deleterange', {key: b64(key)}).catch(() => undefined);
				return `${restarted.node.name} restarted and read the key back`;
			}
			lastError = 'key missing after restart';
		} catch (error) {
			lastError = (error as Error).message;
		}
		await sleep(1000, undefined, {signal: context.signal});
	}
	throw new CheckFailure(`${restarted.node.name} after "${spec.restartCommand}": ${lastError}`);
}

export async function clusterCheckAttempt(spec: CheckSpec, context: CheckContext): Promise<string> {
	const controlPlane = context.nodes.filter(a => a.node.role === 'control-plane');
	switch (spec.type) {
		case 'raft-quorum':
			return raftQuorum(spec, context, controlPlane);
		case 'crud':
			return crud(spec.port, context, controlPlane);
		case 'persistence':
			return persistence(spec, context, controlPlane);
		default:
			throw new CheckFailure(`${spec.type} is a node check`);
	}
}
