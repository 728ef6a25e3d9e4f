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
		summary: 'preflight; on a custom netboot image also boots one node (two for the cluster IP) and checks the guest contract',
		usage: 'doctor [--profile NAME | --profile-file PATH] [--boot-test] [--timeout SEC]',
		options: [
			...profileHelp,
			['--boot-test', 'boot the contract test on the demo or a nix image too (a custom image always gets it)'],
			['--timeout SEC', 'how long the ready line and SSH may take, each (default: boot.sshTimeoutSec)'],
		],
		parse: {...help, ...profileOptions, 'boot-test': {type: 'boolean'}, timeout: {type: 'string'}},
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
		usage: 'up [--profile NAME | --profile-file PATH] [--from-snapshot NAME] [--full] --yes',
		options: [
			...profileHelp,
			['--yes', 'do not ask before starting'],
			['--force-install', 'install again on nodes that finished'],
			['--boot-only', 'stop once every node answers on SSH'],
			['--from-snapshot NAME', 'after a down: start every node from snapshot NAME (no image, certificates or install), then validate'],
			['--accept-new-host-keys', 'target ssh-hosts: pin the host key a machine presents when none is pinned (printed)'],
			['--full', 'on a cluster already up and validated: run every check again (default: the node-local ones only)'],
		],
		parse: {...help, ...profileOptions, yes: {type: 'boolean', short: 'y'}, 'force-install': {type: 'boolean'}, 'boot-only': {type: 'boolean'}, 'from-snapshot': {type: 'string'}, 'accept-new-host-keys': {type: 'boolean'}, full: {type: 'boolean'}},
		load: async () => (await import('./up.js')).run,
	},
	stop: {
		summary: 'power every node down cleanly (ACPI, then quit); disks and state are kept for start',
		usage: 'stop [--profile NAME | --profile-file PATH]',
		options: profileHelp,
		parse: {...help, ...profileOptions},
		load: async () => (await import('./stop.js')).run,
	},
	start: {
		summary: 'boot a stopped cluster again (after stop or a host reboot): from its disks, control planes first, no install, then validate',
		usage: 'start [--profile NAME | --profile-file PATH]',
		options: profileHelp,
		parse: {...help, ...profileOptions},
		load: async () => (await import('./start.js')).run,
	},
	status: {
		summary: 'phase, PID and ports of every node of a run (exit 0 running, 1 something failed, 3 stopped or not started)',
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
	watch: {
		summary: 'run the checks again and again against a running cluster, printing what changes (ok -> failed and back)',
		usage: 'watch [--profile NAME | --profile-file PATH] [--interval SEC] [--only CHECKS] [--for SEC]',
		options: [
			...profileHelp,
			['--interval SEC', 'start a round every SEC seconds (default 5)'],
			['--only CHECKS', 'comma-separated check types or names, e.g. raft-quorum,ssh'],
			['--for SEC', 'stop after SEC seconds (default: until ctrl-c)'],
		],
		details: 'Prints the first result of each check, then only transitions, with the time and the reason, and the facts checks learn (raft leader, term). Exit 0 when the last round was all green. Takes no work-directory lock: fault, node and down still work from another terminal.',
		parse: {...help, ...profileOptions, interval: {type: 'string'}, only: {type: 'string'}, for: {type: 'string'}},
		load: async () => (await import('./watch.js')).run,
	},
	timeline: {
		summary: 'what happened to a cluster, in time order: runs, node phases, check transitions, facts, faults',
		usage: 'timeline [--profile NAME | --profile-file PATH] [--json] [--run last|all]',
		options: [...profileHelp, ['--json', 'one JSON object per line, as stored'], ['--run last|all', 'the last run only (default) or every run']],
		parse: {...help, ...profileOptions, json: {type: 'boolean'}, run: {type: 'string'}},
		load: async () => (await import('./timeline.js')).run,
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
	snapshot: {
		summary: 'save, list, restore or delete a snapshot of the whole cluster, paused at one instant',
		usage: 'snapshot save NAME | snapshot list | snapshot restore NAME [--rollback] [--full] | snapshot delete NAME [--profile NAME | --profile-file PATH] [--json]',
		options: [...profileHelp, ['--json', 'list: print the snapshots as JSON'], ['--rollback', 'restore: save every node\'s state aside first (a savevm of each node: 0.4-0.6 s for the demo), so that a node that fails to load puts every node back where it was; without it (or with --no-rollback) a failed load is tried again, then the error says which node is where'], ['--full', 'restore: also the checks that change a node (persistence restarts etcd), which a restore leaves out so as not to move the cluster on from the state it brought back']],
		details:
			'save pauses every node at once, saves each (RAM and disk, inside its qcow2 disk) and resumes them; restore refuses when the node set, MACs, IPs or disks changed, else loads every node (with --rollback every node or none), steps the guest clocks and runs the checks (on each node as soon as it answers; those that change a node only with --full). up --from-snapshot NAME boots a cluster that was brought down from a snapshot.',
		parse: {...help, ...profileOptions, json: {type: 'boolean'}, rollback: {type: 'boolean'}, 'no-rollback': {type: 'boolean'}, full: {type: 'boolean'}},
		load: async () => (await import('./snapshot.js')).run,
	},
	fault: {
		summary: 'inject a fault into a running cluster: kill, freeze, isolate, partition, delay...; heal and thaw undo them',
		usage: 'fault kill|freeze|thaw|reboot|powerdown|isolate|heal|partition|delay|jitter|loss|bandwidth ... [--profile NAME | --profile-file PATH] [--force]',
		options: [...profileHelp, ['--force', 'go on even when the quorum guard says the cluster loses quorum']],
		details: [
			'fault kill|freeze|reboot|powerdown|isolate NODE   one node (kill: SIGKILL of its QEMU; freeze: QMP stop; isolate: its cluster link down)',
			'fault thaw [NODE] / fault heal [NODE]             undo freezes / every network fault (isolate, partition, impairment)',
			'fault partition A,B C,D,E  (or "A,B|C,D,E")       groups that cannot reach each other (VLANs on the switch)',
			'fault delay NODE 200ms | jitter NODE 50ms | loss NODE 10% | bandwidth NODE 1mbit   (needs network.impairment: true)',
		].join('\n'),
		parse: {...help, ...profileOptions, force: {type: 'boolean'}},
		load: async () => (await import('./fault.js')).run,
	},
	rehearse: {
		summary: 'run a scenario of faults, waits and expectations against a running cluster; exit 0 only when every expectation held',
		usage: 'rehearse SCENARIO.json [--profile NAME | --profile-file PATH] [--force]',
		options: [...profileHelp, ['--force', "let the scenario's faults cost quorum"]],
		parse: {...help, ...profileOptions, force: {type: 'boolean'}},
		load: async () => (await import('./rehearse.js')).run,
	},
} satisfies Record<string, Command>;

export function commandFor(name: CommandName): Command {
	return COMMANDS[name];
}

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(name: string): name is CommandName {
	return Object.hasOwn(COMMANDS, name);
}
