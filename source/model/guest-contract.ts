import type {HostKeyPolicy} from './profile-schema.js';
import {GUEST_FW_CFG, GUEST_NICS, nodeVars, type NodePlan, type Plan} from './plan.js';

// What a netboot image has to do to work with plasma-tui, rendered from the same
// constants qemuArgsFor uses (NIC order, fw_cfg names), the placeholders of
// nodeVars and the plan's ready pattern: `image --contract` and the README print
// this, so the text cannot drift from the QEMU arguments.

export type GuestContract = {
	example: {node: string; mac: string; ip: string; sshPort: number; append: string};
	nics: Array<{index: number; netdev: string; role: 'cluster' | 'management'; mac: string}>;
	fwCfg: Array<{name: string; sysfs: string; holds: string}>;
	placeholders: Array<{name: string; example: string}>;
	readyPattern?: string;
	failPattern?: string;
	ssh: {user: string; hostKeyPolicy: HostKeyPolicy; port: number};
	install: Plan['install']['method'];
	uploads: Array<{remote: string; mode: string}>;
};

// Where a Linux guest with CONFIG_FW_CFG_SYSFS (module qemu_fw_cfg) reads a fw_cfg item.
export function fwCfgSysfsPath(name: string): string {
	return `/sys/firmware/qemu_fw_cfg/by_name/${name}/raw`;
}

export function guestContract(plan: Plan): GuestContract {
	const node: NodePlan | undefined = plan.nodes[0];
	if (!node) throw new RangeError('a plan without nodes has no guest contract');
	const vars = nodeVars(node, plan.cluster);
	return {
		example: {node: node.name, mac: node.mac, ip: node.ip, sshPort: node.sshPort, append: node.append},
		nics: GUEST_NICS.map((nic, index) => ({index, netdev: nic.netdev, role: nic.role, mac: nic.role === 'cluster' ? node.mac : node.mgmtMac})),
		fwCfg: [
			{name: GUEST_FW_CFG.authorizedKeys, sysfs: fwCfgSysfsPath(GUEST_FW_CFG.authorizedKeys), holds: `the SSH public key the run logs in with (one OpenSSH line): install it as ~${plan.ssh.user}/.ssh/authorized_keys (0600, directory 0700)`},
			{name: GUEST_FW_CFG.hostKey, sysfs: fwCfgSysfsPath(GUEST_FW_CFG.hostKey), holds: "the node's generated SSH host key (OpenSSH private key): sshd must serve it (0600)"},
		],
		placeholders: Object.entries(vars).map(([name, value]) => ({name, example: String(value)})),
		readyPattern: plan.boot.readyPattern,
		failPattern: plan.boot.failPattern,
		ssh: {user: plan.ssh.user, hostKeyPolicy: plan.ssh.hostKeyPolicy, port: node.sshPort},
		install: plan.install.method,
		uploads: node.install.method === 'push' ? node.install.uploads.map(u => ({remote: u.remote, mode: u.mode.toString(8).padStart(4, '0')})) : [],
	};
}

// Plain text that is also Markdown: the command prints it, the README embeds it.
export function formatGuestContract(contract: GuestContract): string[] {
	const {example} = contract;
	const lines = [
		'Guest contract: what a netboot image must do for plasma-tui',
		'',
		`Network interfaces (virtio-net-pci, in this order; example values are ${example.node}'s):`,
		...contract.nics.map(nic =>
			nic.role === 'cluster'
				? `- NIC ${nic.index + 1} (netdev ${nic.netdev}): the cluster NIC on the VDE switch, MAC from the profile (${nic.mac}). No DHCP: give it the node's IP (${example.ip}) from the kernel command line. Find it by its MAC, not by its name or probe order.`
				: `- NIC ${nic.index + 1} (netdev ${nic.netdev}): the management NIC, QEMU user-mode with restrict=on, MAC ${nic.mac} (fixed per node: the cluster MAC with 0x08 flipped in its first octet). Take its address by DHCP (QEMU serves 10.0.2.15) or set 10.0.2.15/24; nothing leaves it but 127.0.0.1:${example.sshPort} on the host forwarded to the guest's port 22. An installed system must configure it too, matched by this MAC (the generated configuration.nix does), or the node is unreachable after its reboot.`,
		),
		'',
		'fw_cfg items (read them from sysfs: CONFIG_FW_CFG_SYSFS, module qemu_fw_cfg):',
		...contract.fwCfg.map(item => `- ${item.name} (${item.sysfs}): ${item.holds}.`),
		'',
		'Kernel command line: boot.append with these placeholders filled per node (QEMU -append):',
		...contract.placeholders.map(p => `- {${p.name}} (${example.node}: ${p.example})`),
		`- ${example.node}'s line: ${example.append}`,
		'- The serial console is the first UART (ttyS0, no display): keep console=ttyS0 so the ready line and the boot log reach plasma-tui.',
		'',
		'Ready line:',
		contract.readyPattern === undefined
			? '- boot.readyPattern is not set: the SSH wait polls with backoff. Set it to a line the image prints on ttyS0 once sshd listens to cut the wait short.'
			: `- a console line matching /${contract.readyPattern}/, printed once sshd listens on port 22 (the demo image prints "plasma-ready <hostname> <ip>"); it cuts the SSH wait short.`,
		contract.failPattern === undefined
			? '- boot.failPattern is not set: a node that cannot start sshd is failed only when the SSH wait times out. Set it to a line the image prints when it gives up.'
			: `- a console line matching /${contract.failPattern}/ says the node will not come up (the demo image prints "plasma-error <why>"): the node fails at once with that line as the reason.`,
		'',
		'SSH:',
		`- sshd on port 22 of the management NIC, user ${contract.ssh.user}, public-key login with the key from ${GUEST_FW_CFG.authorizedKeys}.`,
		`- Host key policy ${contract.ssh.hostKeyPolicy}: ${hostKeyWords(contract.ssh.hostKeyPolicy)}`,
		'',
		`Install (install.method ${contract.install}):`,
		...installWords(contract),
	];
	return lines;
}

function hostKeyWords(policy: HostKeyPolicy): string {
	if (policy === 'first-use') return 'the first key the node presents is pinned and any change is refused (for images that ignore fw_cfg).';
	return `the node must present the key from ${GUEST_FW_CFG.hostKey}; a key of the image's own is accepted only from this run's QEMU and only until install starts.`;
}

function installWords(contract: GuestContract): string[] {
	if (contract.install === 'push') {
		return [
			'- Files go over one SFTP session, or, when the node has no sftp-server, over exec as `cat > tmp && chmod MODE tmp && mv tmp DEST`: the guest needs an SFTP subsystem or a POSIX shell with cat, chmod, mv, mkdir and rm (busybox has them).',
			...contract.uploads.map(u => `- uploads ${u.remote} (mode ${u.mode})`),
			'- Then each install.push command runs over SSH exec in the user\'s shell; a command must exit non-zero when it fails.',
		];
	}
	if (contract.install === 'nixos-anywhere') return ['- nixos-anywhere connects as the SSH user with the same key and kexecs into its installer: the image needs what nixos-anywhere needs (kexec support, enough RAM, a shell with tar).'];
	return ['- Nothing is installed: the nodes are validated as they boot.'];
}
