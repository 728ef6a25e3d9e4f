// The command table: help text and argument shapes are here so `--help`
// needs no other module; each command's code is loaded only when it runs.

export type CommandOptions = Record<string, string | boolean | string[] | undefined>;
export type CommandRun = (input: {values: CommandOptions; positionals: string[]}) => Promise<number>;

type ParseConfig = Record<string, {type: 'string' | 'boolean'; short?: string; multiple?: boolean}>;

export type Command = {
	summary: string;
	usage: string;
	options: Array<[string, string]>;
	details?: string;
	parse: ParseConfig;
	load: () => Promise<CommandRun>;
};

const help = {help: {type: 'boolean', short: 'h'}} as const;
const profileOptions = {profile: {type: 'string'}, 'profile-file': {type: 'string'}} as const;
const profileHelp: Array<[string, string]> = [
	['--profile NAME', 'saved profile or built-in template (default: demo)'],
	['--profile-file PATH', 'read the profile from a plain JSON file'],
];

export const COMMANDS = {
	tui: {
		summary: 'open the wizard (the default when no command is given)',
		usage: 'tui [--profile NAME | --profile-file PATH]',
		options: profileHelp,
		parse: {...help, ...profileOptions},
		load: async () => (await import('./tui.js')).run,
	},
	init: {
		summary: 'create a profile; --plain asks line by line (TERM=dumb, screen readers, serial lines)',
		usage: 'init [--plain] [--template NAME]',
		options: [
			['--plain', 'line prompts instead of the full-screen wizard'],
			['--template NAME', 'start from a built-in template'],
		],
		parse: {...help, plain: {type: 'boolean'}, template: {type: 'string'}},
		load: async () => (await import('./init.js')).run,
	},
	plan: {
		summary: 'print everything that will be created: files, disks, sockets, ports, QEMU arguments',
		usage: 'plan [--profile NAME | --profile-file PATH] [--json]',
		options: [...profileHelp, ['--json', 'print the plan as JSON']],
		parse: {...help, ...profileOptions, json: {type: 'boolean'}},
		load: async () => (await import('./plan.js')).run,
	},
	certs: {
		summary: 'write the CA, node certificates and every per-node artifact',
		usage: 'certs [--profile NAME | --profile-file PATH]',
		options: profileHelp,
		parse: {...help, ...profileOptions},
		load: async () => (await import('./certs.js')).run,
	},
	profiles: {
		summary: 'list saved profiles and templates; export, import, rename, delete',
		usage: 'profiles [list | export NAME FILE | import FILE | rename FROM TO | delete NAME]',
		options: [],
		parse: {...help},
		load: async () => (await import('./profiles.js')).run,
	},
	doctor: {
		summary: 'preflight: tools, accelerator, RAM, disk, ports, boot files, earlier runs',
		usage: 'doctor [--profile NAME | --profile-file PATH]',
		options: profileHelp,
		parse: {...help, ...profileOptions},
		load: async () => (await import('./doctor.js')).run,
	},
	image: {
		summary: 'build (or show) the demo netboot image: Debian kernel, busybox, sshd, etcd',
		usage: 'image [--rebuild] | image --contract [--profile NAME | --profile-file PATH]',
		options: [
			['--rebuild', 'build again even when the cached image is current'],
			['--contract', "print the guest contract a custom image must meet, with the profile's values"],
			...profileHelp,
		],
		parse: {...help, ...profileOptions, rebuild: {type: 'boolean'}, contract: {type: 'boolean'}},
		load: async () => (await import('./image.js')).run,
	},
	up: {
		summary: 'preflight, image, certificates, boot, install, validate',
		usage: 'up [--profile NAME | --profile-file PATH] --yes',
		options: [...profileHelp, ['--yes', 'do not ask before starting'], ['--force-install', 'install again on nodes that finished'], ['--boot-only', 'stop once every node answers on SSH'], ['--accept-new-host-keys', 'target ssh-hosts: pin the host key a machine presents when none is pinned (printed)']],
		parse: {...help, ...profileOptions, yes: {type: 'boolean', short: 'y'}, 'force-install': {type: 'boolean'}, 'boot-only': {type: 'boolean'}, 'accept-new-host-keys': {type: 'boolean'}},
		load: async () => (await import('./up.js')).run,
	},
	status: {
		summary: 'phase, PID and ports of every node of a run',
		usage: 'status [--profile NAME | --profile-file PATH] [--json]',
		options: [...profileHelp, ['--json', 'print the state as JSON']],
		parse: {...help, ...profileOptions, json: {type: 'boolean'}},
		load: async () => (await import('./status.js')).run,
	},
	down: {
		summary: 'stop every node and the switch, remove sockets (--purge: the work directory, disks and artifacts too)',
		usage: 'down [--profile NAME | --profile-file PATH] [--purge [--yes]]',
		options: [
			...profileHelp,
			['--purge', 'also delete the work directory (disks, certificates, keys), only if plasma-tui made it; lists it first'],
			['--yes', 'confirm --purge (and, for target ssh-hosts, the uninstall on the machines) without asking (needed without a terminal)'],
		],
		parse: {...help, ...profileOptions, purge: {type: 'boolean'}, yes: {type: 'boolean'}},
		load: async () => (await import('./down.js')).run,
	},
	console: {
		summary: "follow a node's serial console",
		usage: 'console NODE [--profile NAME | --profile-file PATH] [--no-follow]',
		options: [...profileHelp, ['--no-follow', 'print the log so far and exit']],
		parse: {...help, ...profileOptions, 'no-follow': {type: 'boolean'}},
		load: async () => (await import('./console.js')).run,
	},
	validate: {
		summary: 'run the profile checks against a running cluster; exit 0 only when all pass',
		usage: 'validate [--profile NAME | --profile-file PATH] [--timeout SEC] [--only CHECKS]',
		options: [
			...profileHelp,
			['--timeout SEC', "wait at most SEC for each check (default: each check's own timeout)"],
			['--only CHECKS', 'comma-separated check types or names, e.g. raft-quorum,tls'],
		],
		parse: {...help, ...profileOptions, timeout: {type: 'string'}, only: {type: 'string'}},
		load: async () => (await import('./validate.js')).run,
	},
	node: {
		summary: 'one node of a running cluster: stop, start, restart; add or remove a node',
		usage: 'node stop|start|restart NAME | node add [--role ROLE] | node remove NAME [--profile NAME | --profile-file PATH] [--force] [--yes]',
		options: [
			...profileHelp,
			['--role ROLE', 'node add: worker (default) or control-plane'],
			['--force', 'go on even when the quorum guard says the cluster loses quorum'],
			['--yes', 'do not ask before changing the cluster'],
		],
		parse: {...help, ...profileOptions, role: {type: 'string'}, force: {type: 'boolean'}, yes: {type: 'boolean', short: 'y'}},
		load: async () => (await import('./node.js')).run,
	},
} satisfies Record<string, Command>;

export function commandFor(name: CommandName): Command {
	return COMMANDS[name];
}

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(name: string): name is CommandName {
	return Object.hasOwn(COMMANDS, name);
}
