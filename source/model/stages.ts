import type {Profile} from './profile-schema.js';

// Every stage a run can have, in the order a run reaches them. The plan picks a
// profile's stages from this list; the engine runs exactly those, and the plain
// lines and the run screens name them the same way.
export const STAGES = ['preflight', 'image', 'nix build', 'certificates', 'boot', 'install', 'validate'] as const;
export type StageName = (typeof STAGES)[number];

// boot ends once every node answers on SSH (or failed); install starts with the
// first node that installs and ends when every node is installed or failed.
export function stagesFor(profile: Profile, options: {nixBuild: boolean}): StageName[] {
	return STAGES.filter(stage => {
		switch (stage) {
			case 'image':
				return profile.boot.image === 'demo';
			case 'nix build':
				return profile.boot.image === 'nix' && options.nixBuild;
			case 'install':
				return profile.install.method !== 'none';
			case 'validate':
				return profile.checks.length > 0;
			default:
				return true;
		}
	});
}
