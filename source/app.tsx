import {Box, Text, useApp, useStdin} from 'ink';
import {useMemo, useState, type ReactNode} from 'react';
import type {Profile} from './model/profile-schema.js';
import {formatProblem} from './model/field-error.js';
import {validateProfile} from './model/profile-rules.js';
import {buildPlan} from './model/plan.js';
import {formatPlan} from './model/plan-format.js';
import {KeyDispatcher, useKeys, useTextEntry} from './screens/components/key-dispatcher.js';
import {Frame} from './screens/components/frame.js';
import {ProfileScreen, type ProfileChoice} from './screens/profile-screen.js';
import {TopologyScreen} from './screens/topology-screen.js';
import {NetworkScreen} from './screens/network-screen.js';
import {CertificatesScreen} from './screens/certificates-screen.js';
import {CheckEditorScreen} from './screens/check-editor-screen.js';
import {PlanScreen} from './screens/plan-screen.js';
import {HelpOverlay, type KeyHelp} from './screens/help-overlay.js';
import {QuitConfirm} from './screens/quit-confirm.js';
import {SaveConfirm} from './screens/save-confirm.js';
import {saveConflict, type SaveConflict} from './model/profile-name.js';
import {useProfileDraft} from './hooks/use-profile-draft.js';
import {useCertificates} from './hooks/use-certificates.js';
import {useHostChecks} from './hooks/use-host-checks.js';
import {useTerminalSize} from './hooks/use-terminal-size.js';
import {useStateRef} from './hooks/use-state-ref.js';
import {useWizardStart} from './hooks/use-wizard-start.js';
import type {WizardServices} from './hooks/wizard-services.js';

export const STEPS = ['profile', 'topology', 'network', 'certificates', 'checks', 'plan', 'run'] as const;
export type Step = (typeof STEPS)[number];

const STEP_KEYS: Record<Step, KeyHelp> = {
	profile: [['enter', 'choose; "New profile" asks for a name']],
	topology: [['enter on Profile name', 'rename the profile (a template starts as NAME-2)'], ['← → / enter', 'change a role'], ['enter on Next', 'go to the network screen']],
	network: [['← → tab', 'move between cells'], ['enter', 'edit a cell, enter again to keep it'], ['ctrl-u', 'return a cell to its auto value']],
	certificates: [['← →', 'change the key type'], ['enter on Generate', 'write the CA, certificates and node files']],
	checks: [['← → tab', 'move between port and timeout'], ['enter', 'edit a cell, enter again to keep it']],
	plan: [['↑ ↓ PgUp PgDn', 'scroll'], ['s', 'save the profile (asks before replacing a saved profile or hiding a template)'], ['enter', 'save and run']],
	run: [],
};

// What follows a save: the plan's s, its enter (save and run), or the quit question's s.
type SaveThen = 'save' | 'run' | 'quit';

type Props = {
	services: WizardServices;
	initialProfile?: Profile;
	// The run step (boot, install, validate) is mounted by the caller.
	renderRun?: (profile: Profile, onExit: () => void) => ReactNode;
	onExit?: (outcome: {profile?: Profile; saved: boolean}) => void;
};

// Long plan lines (paths, QEMU options) are wrapped, not cut: every character matters there.
function wrapLines(lines: string[], width: number): string[] {
	return lines.flatMap(line => {
		if (line.length <= width) return [line];
		const indent = '    ';
		const parts = [line.slice(0, width)];
		for (let at = width; at < line.length; at += width - indent.length) parts.push(indent + line.slice(at, at + width - indent.length));
		return parts;
	});
}

export function App(props: Props) {
	return (
		<KeyDispatcher>
			<Wizard {...props} />
		</KeyDispatcher>
	);
}

function Wizard({services, initialProfile, renderRun, onExit}: Props) {
	const {exit} = useApp();
	const {isRawModeSupported} = useStdin();
	const {rows, columns} = useTerminalSize();
	const [step, setStep] = useState<Step>(initialProfile ? 'topology' : 'profile');
	const [overlay, setOverlay, overlayRef] = useStateRef<'help' | 'quit' | 'save' | undefined>(undefined);
	// The save waiting for the operator's answer: what it would replace or hide, and what follows it.
	const [pendingSave, setPendingSave, pendingSaveRef] = useStateRef<{conflict: SaveConflict; then: SaveThen} | undefined>(undefined);
	const editing = useTextEntry();
	const [notice, setNotice] = useState<string | undefined>();
	const [saved, setSaved] = useState(false);
	const startup = useWizardStart(services);
	// A template given on the command line (`tui --profile demo` with no saved demo) starts a new profile too.
	const [start] = useState(() => {
		if (!initialProfile) return {profile: undefined, savedAs: undefined, template: undefined};
		if (startup.saved.includes(initialProfile.name)) return {profile: initialProfile, savedAs: initialProfile.name, template: undefined};
		if (startup.templates.includes(initialProfile.name)) return {profile: {...initialProfile, name: startup.proposeName(initialProfile.name)}, savedAs: undefined, template: initialProfile.name};
		return {profile: initialProfile, savedAs: undefined, template: undefined};
	});
	// The template the draft started from, for the hint next to its new name.
	const [templateName, setTemplateName] = useState<string | undefined>(start.template);
	const draft = useProfileDraft(services.store, step, start.profile, start.savedAs);
	const certificates = useCertificates(services);
	const profile = draft.profile;
	const errors = useMemo(() => (profile ? validateProfile(profile) : []), [profile]);
	const hostErrors = useHostChecks(services, step === 'network' || step === 'plan' ? profile : undefined);
	const allErrors = useMemo(() => [...errors, ...hostErrors.filter(h => !errors.some(e => e.field === h.field))], [errors, hostErrors]);
	const plan = useMemo(() => (profile && step === 'plan' ? buildPlan(profile, services.planContext) : undefined), [profile, step, services.planContext]);
	const height = Math.max(10, rows - 1);

	const quit = (outcome: {saved: boolean}) => {
		draft.flush();
		onExit?.({profile, saved: outcome.saved});
		exit();
	};

	const saveThen = (then: SaveThen) => {
		if (then === 'quit') return quit({saved: draft.save()});
		if (!draft.save() || !profile) return;
		setSaved(true);
		if (then === 'save') setNotice(`saved profile "${profile.name}"`);
		else if (renderRun) setStep('run');
		else quit({saved: true});
	};
	// Saving over another saved profile, or under a template's name, asks first.
	const askThenSave = (then: SaveThen) => {
		const conflict = draft.conflict(startup.templates);
		if (!conflict) return saveThen(then);
		setPendingSave({conflict, then});
		setOverlay('save');
	};

	useKeys(
		(input, key) => {
			const overlay = overlayRef.current;
			if (overlay === 'help') {
				if (key.escape || input === '?') setOverlay(undefined);
			} else if (overlay === 'quit') {
				if (input === 'y') quit({saved: false});
				else if (input === 's') askThenSave('quit');
				else if (input === 'n' || key.escape) setOverlay(undefined);
			} else if (overlay === 'save') {
				const pending = pendingSaveRef.current;
				if (input === 'y' && pending) {
					setOverlay(undefined);
					setPendingSave(undefined);
					saveThen(pending.then);
				} else if (input === 'n' || key.escape) {
					setOverlay(undefined);
					setPendingSave(undefined);
					setNotice(`not saved: "${pending?.conflict.name ?? ''}" is taken; rename the profile on the topology screen, or save again and answer y`);
				}
			}
			return overlay !== undefined;
		},
		{priority: 'overlay', active: true},
	);
	// exitOnCtrlC is off so that ctrl-c can ask first, like q, even inside a text field
	// (text fields pass ctrl-c on). The run step handles its own keys (ctrl-c there may have to stop VMs).
	useKeys(
		(input, key) => {
			if (input === '?') setOverlay('help');
			else if (input === 'q' || (key.ctrl && input === 'c')) {
				if (draft.unsaved) setOverlay('quit');
				else quit({saved});
			} else return false;
			return true;
		},
		{priority: 'global', active: step !== 'run'},
	);

	const choose = (choice: ProfileChoice) => {
		let loaded: Profile | undefined;
		setTemplateName(undefined);
		if (choice.kind === 'resume') {
			if (!startup.draft) return;
			draft.setProfile(startup.draft.profile, {from: {}});
			const screen = STEPS.includes(startup.draft.screen as Step) && startup.draft.screen !== 'run' ? (startup.draft.screen as Step) : 'topology';
			setStep(screen === 'profile' ? 'topology' : screen);
			return;
		}
		if (choice.kind === 'new') {
			if (!startup.demo) return setNotice('the demo template is invalid');
			loaded = {...startup.demo, name: choice.name, description: ''};
			draft.setProfile(loaded, {from: {}});
		} else if (choice.kind === 'template') {
			const result = services.loadTemplate(choice.name);
			if (!result.ok) return setNotice(result.errors.map(e => `${e.field}: ${e.message}`).join('; '));
			// A name of its own: saving under the template's name would hide the template.
			draft.setProfile({...result.profile, name: startup.proposeName(choice.name)}, {fresh: true, from: {}});
			setTemplateName(choice.name);
		} else {
			const result = services.store.load(choice.name);
			if (!result.ok) return setNotice(result.errors.map(e => `${e.field}: ${e.message}`).join('; '));
			draft.setProfile(result.profile, {fresh: true, from: {savedAs: choice.name}});
		}
		setStep('topology');
	};

	// Said next to the profile name on the topology screen; the store as read at start, plus this draft's own saves.
	const nameHint = (current: Profile): string | undefined => {
		const conflict = saveConflict(current.name, draft.savedAs, startup.saved, startup.templates);
		if (conflict?.kind === 'replaces-saved') return 'a saved profile has this name: saving asks before replacing it';
		if (conflict) return 'a template has this name: saving asks before hiding the template';
		return templateName && current.name !== templateName ? `from the template ${templateName}, under a name of its own` : undefined;
	};

	const go = (next: Step) => {
		setNotice(undefined);
		setStep(next);
	};
	const active = isRawModeSupported && overlay === undefined;
	const stepIndex = STEPS.indexOf(step);

	let body: ReactNode;
	if (step === 'profile' || !profile) {
		body = (
			<ProfileScreen
				draft={startup.draft ? {name: startup.draft.profile.name, screen: startup.draft.screen, savedAt: startup.draft.savedAt} : undefined}
				saved={startup.saved}
				templates={startup.templates}
				error={notice ?? startup.error}
				isActive={active}
				onChoose={choose}
				checkName={startup.checkName}
			/>
		);
	} else if (step === 'topology') {
		body = <TopologyScreen profile={profile} errors={allErrors} nameHint={nameHint(profile)} bodyRows={height - 2} isActive={active} onChange={draft.setProfile} onNext={() => go('network')} onBack={() => go('profile')} />;
	} else if (step === 'network') {
		body = <NetworkScreen profile={profile} errors={allErrors} bodyRows={height - 2} isActive={active} onChange={draft.setProfile} onNext={() => go('certificates')} onBack={() => go('topology')} />;
	} else if (step === 'certificates') {
		body = (
			<CertificatesScreen
				profile={profile}
				errors={allErrors}
				certs={certificates.certs}
				bodyRows={height - 2}
				isActive={active}
				onChange={next => {
					certificates.reset();
					draft.setProfile(next);
				}}
				onGenerate={() => void certificates.generate(profile)}
				onNext={() => go('checks')}
				onBack={() => go('network')}
			/>
		);
	} else if (step === 'checks') {
		body = <CheckEditorScreen profile={profile} errors={allErrors} bodyRows={height - 2} isActive={active} onChange={draft.setProfile} onNext={() => go('plan')} onBack={() => go('certificates')} />;
	} else if (step === 'plan' && plan) {
		const problems = [...allErrors, ...plan.problems];
		const lines = wrapLines([...problems.map(e => `✗ ${formatProblem(e)}`), ...formatPlan(plan).split('\n')], columns - 1);
		body = (
			<PlanScreen
				lines={lines}
				height={height - 2}
				saved={saved && !draft.unsaved}
				message={notice}
				isActive={active}
				onBack={() => go('checks')}
				onSave={() => askThenSave('save')}
				onRun={() => {
					if (problems.length > 0) return setNotice('fix the problems marked ✗ at the top of the plan first');
					askThenSave('run');
				}}
			/>
		);
	} else if (step === 'run' && profile && renderRun) {
		// The run has its own header, stage line and keys: no wizard frame around it.
		return renderRun(profile, () => quit({saved: true}));
	}

	return (
		<Frame
			title={profile ? `profile ${profile.name}` : 'new cluster'}
			// The wizard has six steps; the run that follows the plan is not one of them.
			step={step !== 'run' ? {index: stepIndex + 1, of: STEPS.length - 1, name: step} : undefined}
			unsaved={draft.unsaved}
			height={height}
			footer={editing ? 'editing: enter keeps, esc cancels, ctrl-u clears' : '↑↓ tab move · enter select · esc back · ? help · q quit'}
			>
			{overlay === 'help' ? <HelpOverlay title={step} keys={STEP_KEYS[step]} /> : null}
			{overlay === 'quit' && profile ? <QuitConfirm profileName={profile.name} /> : null}
			{overlay === 'save' && pendingSave ? <SaveConfirm conflict={pendingSave.conflict} /> : null}
			{draft.error ? <Text color="red">{draft.error}</Text> : null}
			{notice && !overlay && step !== 'profile' && step !== 'plan' ? <Text color="yellow">{notice}</Text> : null}
			<Box display={overlay ? 'none' : 'flex'} flexDirection="column">
				{body}
			</Box>
		</Frame>
	);
}
