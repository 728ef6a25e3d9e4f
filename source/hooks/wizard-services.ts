import type {Profile} from '../model/profile-schema.js';
import type {ParseResult} from '../model/parse-profile.js';
import type {Plan, PlanContext} from '../model/plan.js';
import type {ArtifactReport} from '../services/artifacts.js';

// What the wizard needs from the outside world. The TUI command passes the
// real services; screen tests pass the same ones pointed at a temp dir.
export type WizardServices = {
	store: {
		list(): string[];
		load(name: string): ParseResult;
		save(profile: Profile): void;
		saveDraft(profile: Profile, screen: string): void;
		loadDraft(): {profile: Profile; screen: string; savedAt: string} | undefined;
		clearDraft(): void;
	};
	listTemplates(): string[];
	loadTemplate(name: string): ParseResult;
	planContext: PlanContext;
	writeArtifacts(plan: Plan): Promise<ArtifactReport>;
	// Problems only the host can tell: SSH ports already listening, files that do not exist.
	hostChecks?(profile: Profile): Promise<import('../model/field-error.js').FieldError[]>;
};
