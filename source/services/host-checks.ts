import fs from 'node:fs/promises';
import net from 'node:net';
import type {Profile} from '../model/profile-schema.js';
import {type FieldError, fieldError, visible} from '../model/field-error.js';
import {resolveNodes, type ResolvedNode} from '../model/resolve.js';

// Profile problems only the host can tell: a port something already listens
// on, a file that is not there. Same FieldError shape as the pure checks.

export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
	return new Promise(resolve => {
		const server = net.createServer();
		server.once('error', () => resolve(false));
		server.listen({port, host, exclusive: true}, () => server.close(() => resolve(true)));
	});
}

async function readable(file: string): Promise<boolean> {
	return fs.access(file, fs.constants.R_OK).then(
		() => true,
		() => false,
	);
}

// `ownPorts`: ports this profile's own running nodes hold (a rerun attaches to them).
export async function sshPortsInUse(nodes: ResolvedNode[], ownPorts?: Set<number>): Promise<FieldError[]> {
	const free = await Promise.all(nodes.map(n => (ownPorts?.has(n.sshPort) ? true : portIsFree(n.sshPort))));
	return nodes.flatMap((node, index) => {
		if (free[index]) return [];
		const field = node.overridden.sshPort ? `nodes[${node.index}].sshPort` : 'network.sshPortBase';
		return [fieldError(field, `${node.name}: SSH port ${node.sshPort} is already in use on 127.0.0.1`, `choose a free port for nodes[${node.index}].sshPort, or move network.sshPortBase`)];
	});
}

export async function hostChecks(profile: Profile): Promise<FieldError[]> {
	const errors = await sshPortsInUse(resolveNodes(profile));
	const {boot} = profile;
	const files: Array<[string, string | undefined, boolean]> = [
		['boot.kernel', boot.kernel, boot.mode === 'netboot' && boot.image === 'custom'],
		['boot.initrd', boot.initrd, boot.mode === 'netboot' && boot.image === 'custom'],
		['boot.iso', boot.iso, boot.mode === 'iso'],
		['boot.diskImage', boot.diskImage, boot.mode === 'disk'],
		['tls.existingCa.cert', profile.tls.existingCa?.cert, profile.tls.existingCa !== undefined],
		['tls.existingCa.key', profile.tls.existingCa?.key, profile.tls.existingCa !== undefined],
	];
	for (const [field, file, needed] of files) {
		if (needed && file && !(await readable(file))) errors.push(fieldError(field, `${visible(file)} does not exist or is not readable`, `check the path in ${field}`));
	}
	return errors;
}
