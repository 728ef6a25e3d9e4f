import fs from 'node:fs/promises';
import path from 'node:path';
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

// Writes everything a node needs, from the plan. Idempotent: a file whose
// content is already right is left alone, keys and the CA are reused.
export async function writeArtifacts(plan: Plan, options: {onEvent?: RunEventListener} = {}): Promise<ArtifactReport> {
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
		note(node.files.hostKey, await ensureKeyPair(node.files.hostKey, node.files.hostKeyPub, `root@${node.hostname}`));
		note(node.files.clusterConfig, await writeFileIfChanged(node.files.clusterConfig, clusterConfig(plan, node), 0o644));
		note(node.files.hosts, await writeFileIfChanged(node.files.hosts, hosts, 0o644));
		note(node.files.nixosModule, await writeFileIfChanged(node.files.nixosModule, nixosModule(plan, node, authorizedKey), 0o644));
		note(node.files.disko, await writeFileIfChanged(node.files.disko, diskoLayout(node), 0o644));
	}
	return {ca: certs.ca, certificates: certs.nodes, written, unchanged};
}
