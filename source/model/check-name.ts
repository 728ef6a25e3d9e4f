import type {CheckSpec} from './profile-schema.js';

// How a check is called on screens, in events and in the report: its own name,
// or one made from its type and parameters. Pure, so screens and the plan can use it.
export function checkName(spec: CheckSpec): string {
	if (spec.name) return spec.name;
	switch (spec.type) {
		case 'tcp-port':
		case 'metrics':
		case 'tls':
		case 'raft-quorum':
		case 'crud':
		case 'persistence':
			return `${spec.type} :${spec.port}`;
		case 'http':
			return `http :${spec.port}${spec.path}`;
		case 'systemd-unit':
			return `unit ${spec.unit}`;
		case 'command':
			return `command ${spec.command.slice(0, 30)}`;
		default:
			return spec.type;
	}
}

// The TCP port a check talks to, for the types that have one.
export function checkPort(spec: CheckSpec): number | undefined {
	return 'port' in spec ? spec.port : undefined;
}
