import type {Profile} from '../../model/profile-schema.js';
import type {FieldError} from '../../model/field-error.js';

// What every editing step of the wizard gets: the draft, its field errors, and where to go.
export type StepScreenProps = {
	profile: Profile;
	errors: FieldError[];
	isActive: boolean;
	onChange: (profile: Profile) => void;
	onNext: () => void;
	onBack: () => void;
	// Rows the screen may use (terminal rows minus header and footer).
	bodyRows?: number;
};
