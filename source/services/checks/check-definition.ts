import {z} from 'zod';
import {type FieldError, ProblemError} from '../../model/field-error.js';
import type {NodePlan, Plan} from '../../model/plan.js';
import type {CheckAnswer} from '../../model/check-facts.js';
import {rolesSchema} from '../../model/node-role.js';
import type {CheckStart} from '../../model/check-start.js';
import type {NodeSsh} from '../ssh.js';

// What a check type is: its parameters, where it runs, how it is named and
// validated, and one attempt of it. The model imports these definitions (the
// profile schema, names, rules), so a check file imports only types from the
// services and does its I/O inside run(), through the context it is given.

// Fields every check has, whatever its type.
export const checkBaseShape = {
	name: z.string().optional(),
	timeoutSec: z.number().int().default(60),
	// A file on the node whose last line explains a failure (the service's log); default: the serial console.
	explainLog: z.string().optional(),
	// A node check runs only on nodes of these roles (e.g. etcd's client port on members only); absent: every node.
	roles: rolesSchema,
};

export type NodeAccess = {node: NodePlan; ssh: NodeSsh};

export type CheckContext = {
	plan: Plan;
	nodes: NodeAccess[];
	// Where a node's service is reached through its tunnel (tests point it elsewhere).
	target?: (node: NodePlan, port: number) => {host: string; port: number};
	timeoutMs: number;
	signal?: AbortSignal;
	// Nodes not in this validation yet (up: still installing): not silent, only not there yet.
	pending?: string[];
};

// A node check runs once per node: the context says which node and its connection.
export type NodeCheckContext = CheckContext & NodeAccess;

export type CheckScope = 'node' | 'cluster';

// An attempt that did not pass: its message is the reason the operator reads.
// Why one attempt of a check did not pass (a ProblemError without field or fix).
export class CheckFailure extends ProblemError {
	constructor(message: string) {
		super({message});
	}
}

type ParamsShape = z.core.$ZodLooseShape;
type SpecShape<T extends string, P extends ParamsShape> = typeof checkBaseShape & {type: z.ZodLiteral<T>} & P;
export type CheckSpecSchema<T extends string, P extends ParamsShape> = z.ZodObject<SpecShape<T, P>, z.core.$strict>;
type SpecOf<T extends string, P extends ParamsShape> = z.output<CheckSpecSchema<T, P>>;

export type CheckDefinitionInput<T extends string, P extends ParamsShape, S extends CheckScope> = {
	type: T;
	// The type's own parameters; unknown keys are refused.
	params: z.ZodObject<P, z.core.$strict>;
	// Parameters as a profile would write them (tests parse every type with its example).
	example: z.input<z.ZodObject<P, z.core.$strict>>;
	scope: S;
	// The name of a check the profile does not name, made from its parameters.
	name(spec: SpecOf<T, P>): string;
	// The TCP port the check talks to, for the types that have one.
	port?(spec: SpecOf<T, P>): number;
	// Semantic problems of the parameters, found before a run instead of minutes into it.
	rules?(spec: SpecOf<T, P>, at: string): FieldError[];
	// One attempt: resolves with what it saw (and the facts it learned), throws CheckFailure with why it did not pass.
	run(spec: SpecOf<T, P>, context: S extends 'node' ? NodeCheckContext : CheckContext): Promise<string | CheckAnswer>;
	// Set on a check that changes the node (restarts a service): the reason watch mode does not re-run it.
	changesNode?: string;
	// When it may start while other nodes still install (model/check-start.ts); default: a node
	// check once its own node is installed, a cluster check once every node is.
	startsWhen?: CheckStart;
};

export type CheckDefinition<T extends string, P extends ParamsShape, S extends CheckScope> = CheckDefinitionInput<T, P, S> & {
	// The whole check as it appears in a profile: the common fields, `type` and the parameters.
	schema: CheckSpecSchema<T, P>;
};

export function defineCheck<const T extends string, P extends ParamsShape, const S extends CheckScope>(definition: CheckDefinitionInput<T, P, S>): CheckDefinition<T, P, S> {
	const schema = z.strictObject({...checkBaseShape, type: z.literal(definition.type), ...definition.params.shape}) as CheckSpecSchema<T, P>;
	return {...definition, schema};
}
