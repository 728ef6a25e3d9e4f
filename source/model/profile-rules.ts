import type {Profile} from './profile-schema.js';
import {type FieldError, fieldError, printable} from './field-error.js';
import {broadcastOf, formatIpv4, inSubnet, parseIpv4, parseSubnet} from './ipv4.js';
import {isMac, isMulticastMac} from './mac.js';
import {resolveNodes, type ResolvedNode} from './resolve.js';
import {validateChecks} from './check-rules.js';
import {pathProblems, textProblems} from './text-rules.js';
import {validateTarget} from './ssh-hosts-rules.js';


export const MAX_NODES = 16;
const HOSTNAME_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PROFILE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
// POSIX login names; it is also the user part of nixos-anywhere's user@host argument.
const SSH_USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
// Dot-separated Nix identifiers: configuration.nix writes it unquoted as an attribute path.
const NIX_OPTION_PATH = /^[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*$/;

export function hostnameProblem(hostname: string): string | undefined {
	if (hostname.length === 0) return 'is empty';
	if (hostname.length > 253) return 'is longer than 253 characters';
	for (const label of hostname.split('.')) {
		if (!HOSTNAME_LABEL.test(label)) {
			return `"${printable(label)}" is not an RFC 1123 label (lowercase letters, digits and inner hyphens, 1-63 characters)`;
		}
	}
	return undefined;
}

export function validateIp(field: string, text: string, profile: Profile): FieldError | undefined {
	const subnet = parseSubnet(profile.network.subnet);
	const ip = parseIpv4(text);
	if (ip === undefined) {
		return fieldError(field, `"${printable(text)}" is not an IPv4 address`, 'write four numbers 0-255 separated by dots, e.g. 192.168.100.11');
	}
	if (!subnet) return undefined;
	const range = `${formatIpv4(subnet.network + 1)}-${formatIpv4(broadcastOf(subnet) - 1)}`;
	if (!inSubnet(ip, subnet)) {
		return fieldError(field, `${text} is outside the subnet ${profile.network.subnet}`, `choose an address in ${range}, or change network.subnet`);
	}
	if (ip === subnet.network) {
		return fieldError(field, `${text} is the network address of ${profile.network.subnet}`, `choose an address in ${range}`);
	}
	if (ip === broadcastOf(subnet)) {
		return fieldError(field, `${text} is the broadcast address of ${profile.network.subnet}`, `choose an address in ${range}`);
	}
	return undefined;
}

export function validateMac(field: string, text: string): FieldError | undefined {
	if (!isMac(text)) {
		return fieldError(field, `"${printable(text)}" is not a MAC address`, 'write six hex pairs separated by colons, e.g. 52:54:00:00:01:01');
	}
	if (isMulticastMac(text)) {
		return fieldError(field, `${text} is a multicast MAC (lowest bit of the first octet is set)`, 'use an even first octet; QEMU guests usually use 52:54:00:xx:xx:xx');
	}
	return undefined;
}

export function validateSshPort(field: string, port: number): FieldError | undefined {
	if (!Number.isInteger(port) || port < 1024 || port > 65535) {
		return fieldError(field, `${port} is not a usable SSH port`, 'use a port from 1024 to 65535 (ports below 1024 need root and clash with host services)');
	}
	return undefined;
}

function validateNodeValues(node: ResolvedNode, profile: Profile, errors: FieldError[]): void {
	const at = `nodes[${node.index}]`;
	const spec = profile.nodes[node.index]!;
	if (!HOSTNAME_LABEL.test(node.name)) {
		errors.push(fieldError(`${at}.name`, `"${printable(node.name)}" is not a valid node name`, 'use lowercase letters, digits and inner hyphens, e.g. node01'));
	}
	const hostProblem = hostnameProblem(node.hostname);
	if (hostProblem) {
		errors.push(fieldError(`${at}.hostname`, `hostname ${hostProblem}`, 'use lowercase letters, digits and hyphens, not starting or ending with a hyphen, e.g. node01'));
	}
	const ipError = validateIp(`${at}.ip`, node.ip, profile);
	if (ipError) errors.push(ipError);
	const macError = validateMac(`${at}.mac`, node.mac);
	if (macError) errors.push(macError);
	const portError = validateSshPort(`${at}.sshPort`, node.sshPort);
	if (portError) errors.push(portError);
	for (const [key, unit] of [['vcpus', ''], ['memoryMiB', ' MiB'], ['diskGiB', ' GiB']] as const) {
		const value = node[key];
		if (!Number.isInteger(value) || value <= 0) {
			const field = spec[key] === undefined ? `defaults.${key}` : `${at}.${key}`;
			errors.push(fieldError(field, `${value}${unit} is not a positive whole number`, `set ${key} to 1 or more`));
		}
	}
}

function validateUnique(nodes: ResolvedNode[], errors: FieldError[]): void {
	const keys = [
		['ip', 'IP'],
		['mac', 'MAC'],
		['hostname', 'hostname'],
		['sshPort', 'SSH port'],
		['switchPort', 'switch port'],
		['name', 'node name'],
	] as const;
	for (const [key, label] of keys) {
		const firstAt = new Map<string, number>();
		for (const node of nodes) {
			const value = String(node[key]).toLowerCase();
			const first = firstAt.get(value);
			if (first === undefined) firstAt.set(value, node.index);
			else {
				errors.push(fieldError(`nodes[${node.index}].${key}`, `duplicate ${label} ${printable(String(node[key]))}: ${printable(nodes[first]!.name)} has it already`, `give ${printable(node.name)} a different ${label}, or clear the override to auto-assign one`));
			}
		}
	}
}

// Everything that can be checked without touching the host. Host checks
// (ports already listening, files that do not exist) are in services/host-checks.ts.
export function validateProfile(profile: Profile): FieldError[] {
	const errors: FieldError[] = [];
	if (!PROFILE_NAME.test(profile.name)) {
		errors.push(fieldError('name', `"${printable(profile.name)}" is not a valid profile name`, 'use lowercase letters, digits, dots, dashes and underscores (at most 63)'));
	}
	const clusterProblem = hostnameProblem(profile.cluster.name);
	if (clusterProblem) errors.push(fieldError('cluster.name', `cluster name ${clusterProblem}`, 'use lowercase letters, digits and hyphens, e.g. plasma'));
	const domainProblem = hostnameProblem(profile.cluster.domain);
	if (domainProblem) errors.push(fieldError('cluster.domain', `domain ${domainProblem}`, 'use a DNS name such as cluster.local'));

	const subnet = parseSubnet(profile.network.subnet);
	if (!subnet) {
		errors.push(fieldError('network.subnet', `"${printable(profile.network.subnet)}" is not an IPv4 subnet`, 'write network address and prefix 8-30, e.g. 192.168.100.0/24'));
	} else if (profile.network.hostOffset < 1 || profile.network.hostOffset + profile.nodes.length > subnet.size - 1) {
		errors.push(fieldError('network.hostOffset', `offset ${profile.network.hostOffset} leaves no room for ${profile.nodes.length} nodes in ${profile.network.subnet}`, 'lower network.hostOffset or use a larger subnet'));
	}
	if (profile.network.gateway !== undefined) {
		const gatewayError = validateIp('network.gateway', profile.network.gateway, profile);
		if (gatewayError) errors.push(gatewayError);
	}
	if (profile.network.macPrefix !== undefined && !/^[0-9a-f]{2}:[0-9a-f]{2}$/i.test(profile.network.macPrefix)) {
		errors.push(fieldError('network.macPrefix', `"${printable(profile.network.macPrefix)}" is not two hex octets`, 'write it like 00:01, or remove it to derive one from the profile name'));
	}
	const basePortError = validateSshPort('network.sshPortBase', profile.network.sshPortBase);
	if (basePortError) errors.push(basePortError);

	if (profile.nodes.length < 1 || profile.nodes.length > MAX_NODES) {
		errors.push(fieldError('nodes', `${profile.nodes.length} nodes`, `choose 1 to ${MAX_NODES} nodes`));
	}
	const nodes = resolveNodes(profile);
	for (const node of nodes) validateNodeValues(node, profile, errors);
	validateUnique(nodes, errors);
	if (!nodes.some(n => n.role === 'control-plane')) {
		errors.push(fieldError('nodes', 'no node has the control-plane role', 'set at least one node role to control-plane'));
	}
	// An existing machine boots itself: the boot section is the VMs' only.
	errors.push(...(profile.target.kind === 'qemu' ? validateBoot(profile) : []), ...validateTarget(profile), ...validateTls(profile), ...validateInstall(profile), ...validateChecks(profile), ...pathProblems(profile));
	if (!SSH_USER.test(profile.ssh.user)) {
		errors.push(fieldError('ssh.user', `"${printable(profile.ssh.user)}" is not a user name`, 'use a login name such as root (letters, digits, _ and -, not starting with -)'));
	}
	errors.push(...textProblems(profile, new Set(errors.map(e => e.field))));
	return errors;
}

function validateBoot(profile: Profile): FieldError[] {
	const errors: FieldError[] = [];
	const {boot} = profile;
	if (boot.mode === 'netboot' && boot.image === 'custom') {
		if (!boot.kernel) errors.push(fieldError('boot.kernel', 'netboot needs a kernel', 'set boot.kernel to a bzImage path, or boot.image to demo'));
		if (!boot.initrd) errors.push(fieldError('boot.initrd', 'netboot needs an initrd', 'set boot.initrd to an initrd path, or boot.image to demo'));
	}
	if (boot.mode === 'netboot' && boot.image === 'nix' && !boot.nixAttr) {
		errors.push(fieldError('boot.nixAttr', 'a nix-built netboot image needs a flake attribute', 'set boot.nixAttr, e.g. .#netboot-base'));
	}
	if (boot.mode === 'iso' && !boot.iso) errors.push(fieldError('boot.iso', 'ISO boot needs an ISO file', 'set boot.iso to the installer ISO path'));
	if (boot.mode === 'disk' && !boot.diskImage) errors.push(fieldError('boot.diskImage', 'disk boot needs a disk image', 'set boot.diskImage to a qcow2 or raw image'));
	// boot.append is checked filled in, per node, in the plan (model/plan.ts).
	if (boot.sshTimeoutSec <= 0) errors.push(fieldError('boot.sshTimeoutSec', 'the SSH wait must be positive', 'set boot.sshTimeoutSec to e.g. 240'));
	for (const field of ['readyPattern', 'failPattern'] as const) {
		const pattern = boot[field];
		if (pattern === undefined) continue;
		try {
			new RegExp(pattern);
		} catch {
			errors.push(fieldError(`boot.${field}`, 'is not a valid regular expression', 'fix the pattern or remove it'));
		}
	}
	return errors;
}

// The attribute types the certificate library knows by name; any other name makes it throw.
const DN_TYPES = new Set(['CN', 'L', 'ST', 'O', 'OU', 'C', 'DC', 'E', 'G', 'I', 'SN', 'T']);

// "CN=a,O=b+OU=c" -> CN, O, OU (escaped \, and \+ are part of a value).
function dnTypes(subject: string): string[] {
	return subject
		.split(/(?<!\\)[,+]/)
		.filter(part => part.trim() !== '')
		.map(part => (part.includes('=') ? part.slice(0, part.indexOf('=')).trim() : part.trim()));
}

function dnValues(subject: string): string[] {
	return subject.split(/(?<!\\)[,+]/).flatMap(part => (part.includes('=') ? [part.slice(part.indexOf('=') + 1).trim()] : []));
}

function validateTls(profile: Profile): FieldError[] {
	const errors: FieldError[] = [];
	const {tls} = profile;
	const unknownTypes = dnTypes(tls.caSubject).filter(type => !DN_TYPES.has(type) && !/^\d+(\.\d+)+$/.test(type));
	if (!/^[A-Za-z]+=/.test(tls.caSubject)) {
		errors.push(fieldError('tls.caSubject', `"${printable(tls.caSubject)}" is not a distinguished name`, 'write it like CN=plasma CA,O=example'));
	} else if (dnValues(tls.caSubject).some(value => value.startsWith('#'))) {
		errors.push(fieldError('tls.caSubject', 'a value starting with # is read as hex-encoded DER', 'escape it as \\# or drop the #'));
	} else if (unknownTypes.length > 0) {
		errors.push(fieldError('tls.caSubject', `unknown attribute type(s) ${unknownTypes.map(t => `"${printable(t)}"`).join(', ')} in the CA subject`, `use ${[...DN_TYPES].join(', ')} in capitals (or a dotted OID), e.g. CN=plasma CA,O=example`));
	}
	if (tls.validityDays < 1 || tls.validityDays > 3650) {
		errors.push(fieldError('tls.validityDays', `${tls.validityDays} days`, 'choose 1 to 3650 days'));
	}
	for (const key of ['ca', 'cert', 'key'] as const) {
		const name = tls.fileNames[key];
		if (!/^[A-Za-z0-9._{}-]{1,128}$/.test(name) || name.startsWith('.')) {
			errors.push(fieldError(`tls.fileNames.${key}`, `"${printable(name)}" is not a plain file name`, 'use at most 128 letters, digits, dots, dashes and {node}, e.g. {node}.crt'));
		}
	}
	if (tls.existingCa) {
		for (const part of ['cert', 'key'] as const) {
			if (tls.existingCa[part] === '') errors.push(fieldError(`tls.existingCa.${part}`, `the existing CA needs its ${part === 'cert' ? 'certificate' : 'key'} file too`, 'give both paths, or clear both to create a new CA'));
		}
	}
	if (tls.fileNames.cert === tls.fileNames.key) {
		errors.push(fieldError('tls.fileNames.key', 'certificate and key would be written to the same file', 'give the key its own name, e.g. {node}.key'));
	}
	// tls.remoteDir is a path on the node: text-rules.ts (pathProblems) checks it.
	return errors;
}

function validateInstall(profile: Profile): FieldError[] {
	const errors: FieldError[] = [];
	if (profile.install.concurrency < 1) errors.push(fieldError('install.concurrency', 'must be at least 1', 'set it to the number of nodes to install at once'));
	for (const key of ['tlsOptionPath', 'clusterConfigOptionPath'] as const) {
		const optionPath = profile.install.nixos[key];
		if (optionPath !== null && !NIX_OPTION_PATH.test(optionPath)) {
			errors.push(fieldError(`install.nixos.${key}`, `"${printable(optionPath)}" is not a NixOS option path`, "write the attribute path the flake's module declares, e.g. plasma.tls, or null to leave the setting out"));
		}
	}
	profile.install.push.files.forEach((file, index) => {
		if (!/^0?[0-7]{3}$/.test(file.mode)) errors.push(fieldError(`install.push.files[${index}].mode`, `"${printable(file.mode)}" is not an octal mode`, 'write it like 0644 or 0400'));
	});
	return errors;
}
