import {useCallback, useState} from 'react';
import {formatProblem, problemOf} from '../model/field-error.js';
import type {Profile} from '../model/profile-schema.js';
import {buildPlan} from '../model/plan.js';
import type {CertState} from '../screens/certificates-screen.js';
import type {WizardServices} from './wizard-services.js';

export function useCertificates(services: Pick<WizardServices, 'writeArtifacts' | 'planContext'>) {
	const [certs, setCerts] = useState<CertState>({status: 'idle'});
	const generate = useCallback(
		async (profile: Profile) => {
			setCerts({status: 'running'});
			try {
				const report = await services.writeArtifacts(buildPlan(profile, services.planContext));
				setCerts({
					status: 'done',
					rows: [report.ca, ...report.certificates].map(cert => ({
						who: cert.node ?? 'CA',
						keyType: cert.keyType,
						fingerprint256: cert.fingerprint256,
						notAfter: cert.notAfter,
						reused: cert.reused,
					})),
				});
			} catch (error) {
				setCerts({status: 'error', message: formatProblem(problemOf(error))});
			}
		},
		[services],
	);
	return {certs, generate, reset: () => setCerts({status: 'idle'})};
}
