import {z} from 'zod';
import {type FieldError, fieldError} from '../../model/field-error.js';
import {forRole, type NodeRole} from '../../model/node-role.js';
import type {CheckAnswer} from '../../model/check-facts.js';
import type {CheckStart} from '../../model/check-start.js';
import {type CheckContext, type CheckDefinition, type CheckScope, CheckFailure, type NodeAccess} from './check-definition.js';

// Everything the rest of the tool knows about check types, derived from a list
// of definitions: the profile schema's union, names, ports, rules and the
// dispatch of an attempt. Nothing outside the check files tests a check's type.

// Method parameters are bivariant, so every definition fits here whatever its parameters.
export type AnyCheckDefinition = CheckDefinition<string, any, CheckScope>;

type SchemasOf<D extends readonly AnyCheckDefinition[]> = {-readonly [K in keyof D]: D[K]['schema']};

export function checkCatalog<const D extends readonly [AnyCheckDefinition, ...AnyCheckDefinition[]]>(definitions: D) {
	// The fields every check has, spelled out so they can be read inside this generic function.
	type Spec = z.output<D[number]['schema']> & {type: string; name?: string; timeoutSec: number; roles?: NodeRole[]};
	const byType = new Map<string, AnyCheckDefinition>();
	for (const definition of definitions) {
		if (byType.has(definition.type)) throw new Error(`check type ${definition.type} is defined twice`);
		byType.set(definition.type, definition);
	}
	const definitionOf = (spec: {type: string}): AnyCheckDefinition => {
		const definition = byType.get(spec.type);
		if (!definition) throw new CheckFailure(`${spec.type} is not a known check type`);
		return definition;
	};
	const schema = z.discriminatedUnion('type', definitions.map(d => d.schema) as unknown as SchemasOf<D>);

	const name = (spec: Spec): string => spec.name ?? definitionOf(spec).name(spec);
	const port = (spec: Spec): number | undefined => definitionOf(spec).port?.(spec);

	// Problems every check can have, then those of its type.
	const rules = (spec: Spec, at: string): FieldError[] => {
		const errors: FieldError[] = [];
		if (spec.timeoutSec < 1) errors.push(fieldError(`${at}.timeoutSec`, `${spec.timeoutSec} s is not a usable timeout`, 'set timeoutSec to 1 or more'));
		const tcpPort = port(spec);
		if (tcpPort !== undefined && (tcpPort < 1 || tcpPort > 65535)) errors.push(fieldError(`${at}.port`, `${tcpPort} is not a TCP port`, 'use a port from 1 to 65535'));
		if (spec.roles !== undefined && definitionOf(spec).scope === 'cluster') errors.push(fieldError(`${at}.roles`, `${spec.type} is a cluster check: it knows which nodes it needs, roles would not change that`, 'remove roles from this check'));
		else if (spec.roles?.length === 0) errors.push(fieldError(`${at}.roles`, 'lists no role, so the check would run nowhere', 'name the roles it runs on (control-plane, worker) or remove roles to run it on every node'));
		return [...errors, ...(definitionOf(spec).rules?.(spec, at) ?? [])];
	};

	const isClusterCheck = (spec: Spec): boolean => definitionOf(spec).scope === 'cluster';

	// The nodes a node check runs on: those of its roles (all when it names none).
	const runsOn = (spec: Spec, node: {role: NodeRole}): boolean => forRole(spec.roles, node.role);

	// One attempt of a node check on one node.
	const nodeCheckAttempt = async (spec: Spec, access: NodeAccess, context: CheckContext): Promise<string | CheckAnswer> => {
		const definition = definitionOf(spec);
		if (definition.scope !== 'node') throw new CheckFailure(`${spec.type} is a cluster check`);
		return definition.run(spec, {...context, ...access});
	};

	// One attempt of a cluster check, over every node it can reach.
	const clusterCheckAttempt = async (spec: Spec, context: CheckContext): Promise<string | CheckAnswer> => {
		const definition = definitionOf(spec);
		if (definition.scope !== 'cluster') throw new CheckFailure(`${spec.type} is a node check`);
		return definition.run(spec, context);
	};

	// Why watch mode leaves a check out (it changes the node), or undefined.
	const changesNode = (spec: Spec): string | undefined => definitionOf(spec).changesNode;

	// What it needs installed before it starts (the pipelined validate stage).
	const startsWhen = (spec: Spec): CheckStart => {
		const definition = definitionOf(spec);
		return definition.startsWhen ?? (definition.scope === 'node' ? 'node' : 'all');
	};

	return {definitions, schema, name, port, rules, isClusterCheck, runsOn, nodeCheckAttempt, clusterCheckAttempt, changesNode, startsWhen};
}
