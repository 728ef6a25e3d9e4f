import {writeArtifacts} from '../services/artifacts.js';
import {FileWriteError} from '../services/atomic-file.js';
import {TlsError} from '../services/tls.js';
import {EXIT, planFor, profileFromOptions} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'certs');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	try {
		const report = await writeArtifacts(plan);
		for (const file of report.written) console.log(`written    ${file}`);
		for (const file of report.unchanged) console.log(`unchanged  ${file}`);
		for (const cert of [report.ca, ...report.certificates]) {
			const who = cert.node ?? 'CA';
			console.log(`${who.padEnd(8)} ${cert.keyType}  expires ${cert.notAfter}  ${cert.fingerprint256}${cert.reused ? '  (reused)' : ''}`);
		}
		return EXIT.ok;
	} catch (error) {
		if (error instanceof TlsError) {
			console.error(`plasma-tui certs: ${error.field}: ${error.message} (fix: ${error.fix})`);
			return EXIT.failed;
		}
		if (error instanceof FileWriteError) {
			console.error(`plasma-tui certs: ${error.message} (fix: ${error.fix})`);
			return EXIT.failed;
		}
		throw error;
	}
};
