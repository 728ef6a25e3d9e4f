import {z} from 'zod';

// What a node is in the cluster. Its own module: the profile schema and the
// check definitions (which the profile schema imports) both need it.
export const roleSchema = z.enum(['control-plane', 'worker']);

export type NodeRole = z.infer<typeof roleSchema>;

// Which nodes a push command, an upload or a check is for: absent means every node.
export const rolesSchema = z.array(roleSchema).optional();

export function forRole(roles: readonly NodeRole[] | undefined, role: NodeRole): boolean {
	return roles === undefined || roles.includes(role);
}
