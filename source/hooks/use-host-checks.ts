import {useEffect, useState} from 'react';
import type {Profile} from '../model/profile-schema.js';
import type {FieldError} from '../model/field-error.js';
import type {WizardServices} from './wizard-services.js';

const CHECK_DELAY_MS = 300;

// Host facts (listening ports, missing files) checked a moment after the profile stops changing.
export function useHostChecks(services: Pick<WizardServices, 'hostChecks'>, profile: Profile | undefined): FieldError[] {
	const [errors, setErrors] = useState<FieldError[]>([]);
	useEffect(() => {
		if (!profile || !services.hostChecks) return;
		let cancelled = false;
		const timer = setTimeout(() => {
			services.hostChecks!(profile).then(
				found => !cancelled && setErrors(found),
				() => undefined,
			);
		}, CHECK_DELAY_MS);
		return () => {
			cancelled = true;
			clearTimeout(timer);
		};
	}, [profile, services]);
	return errors;
}
