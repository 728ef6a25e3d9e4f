import fs from 'node:fs/promises';
import path from 'node:path';
import {printable, type Problem, ProblemError} from '../model/field-error.js';
import type {Plan} from '../model/plan.js';
import type {RunEventListener} from '../model/events.js';
import {clusterConfig, diskoLayout, hostsEntries, nixosModule} from '../model/node-config.js';
import {writeFileIfChanged} from './atomic-file.js';
import {ensureWorkDirs} from './owned-dir.js';
import {ensureKeyPair} from './ssh-keys.js';
import {ensureCertificates, type CertResult} from './tls.js';

export type ArtifactReport = {
	ca: CertResult;
	certificates: CertResult[];
	written: string[];
	unchanged: string[];
};

// The last guard before anything is written, whoever built the plan (a
// command, the wizard, a test): a plan with problems, or one whose node files
// would land outside that node's directory (a node named ../../x), is refused.
export function artifactProblems(plan: Plan): Problem[] {
	const problems: Problem[] = [...plan.problems];
	plan.nodes.forEach((node, index) => {
		const nodeDir = path.join(plan.workDir, 'nodes', node.name);
		const inside = (file: string) => path.dirname(file) === nodeDir || path.dirname(file) === node.secrets.dir;
		const files = [node.secrets.ca, node.secrets.cert, node.secrets.key, ...Object.values(node.files)];
		const safeName = node.name !== '' && node.name !== '.' && node.name !== '..' && !/[/\0]/.test(node.name);
		if (!safeName || node.dir !== nodeDir || path.dirname(node.secrets.dir) !== nodeDir || !files.every(inside)) {
			problems.push({field: `nodes[${index}].name`, message: `"${printable(node.name)}" would place the node's files outside ${path.join(plan.workDir, 'nodes')}`, fix: 'use lowercase letters, digits and inner hyphens, e.g. node01'});
		}
	});
	return problems;
}

// Writes everything a node needs, from the plan. Idempotent: a file whose
// content is already right is left alone, keys and the CA are reused.
export async function writeArtifacts(plan: Plan, options: {onEvent?: RunEventListener} = {}): Promise<ArtifactReport> {
	const [problem, ...more] = artifactProblems(plan);
	if (problem) throw new ProblemError({...problem, message: `nothing was written: ${problem.message}${more.length > 0 ? ` (and ${more.length} more problem${more.length > 1 ? 's' : ''})` : ''}`});
	const written: string[] = [];
	const unchanged: string[] = [];
	const note = (file: string, changed: boolean) => {
		(changed ? written : unchanged).push(file);
		options.onEvent?.({type: 'log', level: 'info', message: `${changed ? 'written' : 'unchanged'} ${file}`, at: Date.now()});
	};

	await ensureWorkDirs(plan.workDir, [path.dirname(plan.ssh.privateKey), ...plan.nodes.map(node => node.dir)]);
	note(plan.ssh.privateKey, await ensureKeyPair(plan.ssh.privateKey, plan.ssh.publicKey, `plasma-tui@${plan.profileName}`));
	const authorizedKey = await fs.readFile(plan.ssh.publicKey, 'utf8');

	const certs = await ensureCertificates(plan);
	note(plan.tls.caCert, !certs.ca.reused);
	if (!plan.tls.reuseExisting) note(plan.tls.caKey, !certs.ca.reused);
	certs.nodes.forEach((cert, index) => {
		note(cert.path, !cert.reused);
		note(plan.nodes[index]!.secrets.key, !cert.reused);
	});

	const hosts = hostsEntries(plan);
	for (const node of plan.nodes) {
		const onUnreadable = (why: string) => options.onEvent?.({type: 'log', level: 'warn', node: node.name, message: `host key replaced: ${why}`, at: Date.now()});
		note(node.files.hostKey, await ensureKeyPair(node.files.hostKey, node.files.hostKeyPub, `root@${node.hostname}`, {onUnreadable}));
		note(node.files.clusterConfig, await writeFileIfChanged(node.files.clusterConfig, clusterConfig(plan, node), 0o644));
		note(node.files.hosts, await writeFileIfChanged(node.files.hosts, hosts, 0o644));
		note(node.files.nixosModule, await writeFileIfChanged(node.files.nixosModule, nixosModule(plan, node, authorizedKey), 0o644));
		note(node.files.disko, await writeFileIfChanged(node.files.disko, diskoLayout(node), 0o644));
	}
	return {ca: certs.ca, certificates: certs.nodes, written, unchanged};
}
