import fs from 'node:fs/promises';
import {type FieldError, fieldError, printable} from '../../model/field-error.js';
import type {NodePlan} from '../../model/plan.js';
import {type CheckContext, CheckFailure, type NodeAccess} from './check-definition.js';

// What several check types share: where a node's port is reached, the node's
// client certificate, etcd's JSON gateway, shell quoting, a URL path rule.

export {shellQuote} from '../shell-quote.js';

// One attempt on a node waits at most 15 s; the engine tries again until the check's own timeout.
export function attemptTimeoutMs(checkTimeoutMs: number): number {
	return Math.min(checkTimeoutMs, 15_000);
}

export function targetOf(context: CheckContext, node: NodePlan, port: number): {host: string; port: number} {
	return context.target?.(node, port) ?? {host: node.ip, port};
}

export function controlPlaneOf(context: CheckContext): NodeAccess[] {
	return context.nodes.filter(a => a.node.role === 'control-plane');
}

export type NodeSecrets = {ca: string; cert: string; key: string};

// Read once per node of a plan: every attempt of every check presents the same client certificate.
const secretsRead = new WeakMap<NodePlan, Promise<NodeSecrets>>();

export function secretsOf(node: NodePlan): Promise<NodeSecrets> {
	let secrets = secretsRead.get(node);
	if (!secrets) {
		secrets = Promise.all([fs.readFile(node.secrets.ca, 'utf8'), fs.readFile(node.secrets.cert, 'utf8'), fs.readFile(node.secrets.key, 'utf8')]).then(([ca, cert, key]) => ({ca, cert, key}));
		// A failed read (certificates not written yet) is tried again next time.
		secrets.catch(() => secretsRead.delete(node));
		secretsRead.set(node, secrets);
	}
	return secrets;
}

export const b64 = (text: string) => Buffer.from(text).toString('base64');

// An etcd v3 JSON gateway call with the node's own client certificate.
export async function etcdCall(context: CheckContext, access: NodeAccess, port: number, api: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
	const target = targetOf(context, access.node, port);
	const secrets = await secretsOf(access.node);
	const response = await access.ssh.httpsRequest({destHost: target.host, port: target.port, path: api, body: JSON.stringify(body), ...secrets, timeoutMs: Math.min(context.timeoutMs, 10_000)});
	if (response.status !== 200) throw new CheckFailure(`${access.node.name}: ${api} answered ${response.status}: ${response.body.slice(0, 120)}`);
	return JSON.parse(response.body) as Record<string, unknown>;
}

// The value etcd holds for a key, '' when it has none.
export async function etcdValue(context: CheckContext, access: NodeAccess, port: number, key: string): Promise<string> {
	const range = await etcdCall(context, access, port, '/v3/kv/range', {key: b64(key)});
	const kvs = (range['kvs'] as Array<{value?: string}> | undefined) ?? [];
	return Buffer.from(kvs[0]?.value ?? '', 'base64').toString();
}

// The first member, in the order given, on which `call` succeeds; the members that failed it
// are returned too (not worth asking again), and when none succeeds each one's error is named.
// No status round first: after a restore, each extra connection costs a cold guest a TLS handshake.
export async function firstAnswering<T>(members: readonly NodeAccess[], what: string, call: (access: NodeAccess) => Promise<T>): Promise<{access: NodeAccess; value: T; failed: NodeAccess[]}> {
	const failed: NodeAccess[] = [];
	const why: string[] = [];
	for (const access of members) {
		try {
			return {access, value: await call(access), failed};
		} catch (error) {
			failed.push(access);
			why.push(`${access.node.name}: ${(error as Error).message}`);
		}
	}
	throw new CheckFailure(members.length === 0 ? 'no member answers' : `no member took ${what} (${why.join('; ')})`);
}

export async function answeringMembers(context: CheckContext, candidates: NodeAccess[], port: number): Promise<NodeAccess[]> {
	const alive = await Promise.all(candidates.map(a => etcdCall(context, a, port, '/v3/maintenance/status', {}).then(() => true, () => false)));
	return candidates.filter((_, index) => alive[index]);
}

// Paths go into HTTP request lines: a bad one is a field error, not a request that fails.
const URL_PATH = /^\/[\x21-\x7e]*$/;

export function urlPathProblems(path: string, at: string): FieldError[] {
	return URL_PATH.test(path) ? [] : [fieldError(`${at}.path`, `"${printable(path)}" is not a URL path`, 'start it with / and use no spaces or control characters, e.g. /health')];
}

export function emptyTextProblems(text: string, field: string, fix: string): FieldError[] {
	return text.trim() === '' ? [fieldError(field, 'is empty', fix)] : [];
}
