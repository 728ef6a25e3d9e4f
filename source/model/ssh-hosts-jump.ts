// A bastion an existing machine is reached through (nodes[].ssh.jump), its user filled in.
export type SshJump = {host: string; port: number; user: string; hostKey?: string};

// user@host:port: how a bastion is named in messages, in the pins file and in ssh's ProxyJump.
export function jumpAddress(jump: Pick<SshJump, 'host' | 'port' | 'user'>): string {
	return `${jump.user}@${jump.host}:${jump.port}`;
}

// Its entry in the pins file: one per bastion, whichever machines go through it.
export function jumpPinName(jump: Pick<SshJump, 'host' | 'port' | 'user'>): string {
	return `jump ${jumpAddress(jump)}`;
}
