import {useCallback, useState} from 'react';
import {formatProblem, problemOf} from '../model/field-error.js';
import type {Profile} from '../model/profile-schema.js';
import {validatedPlan} from '../model/validated-plan.js';
import type {CertState} from '../screens/certificates-screen.js';
import type {WizardServices} from './wizard-services.js';

export function useCertificates(services: Pick<WizardServices, 'writeArtifacts' | 'planContext'>) {
	const [certs, setCerts] = useState<CertState>({status: 'idle'});
	const generate = useCallback(
		async (profile: Profile) => {
			// A resumed draft is only shape-checked: everything is validated before anything is written.
			const checked = validatedPlan(profile, services.planContext);
			if (!checked.ok) {
				setCerts({status: 'error', message: `nothing was written: ${checked.errors.map(formatProblem).join('; ')}`});
				return;
			}
			setCerts({status: 'running'});
			try {
				const report = await services.writeArtifacts(checked.plan);
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
