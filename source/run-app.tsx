import {Box, Text, useStdin} from 'ink';
import {useEffect, useMemo, useRef} from 'react';
import type {Profile} from './model/profile-schema.js';
import {stageOf, type StageView} from './model/run-view.js';
import type {RunServices} from './hooks/run-services.js';
import {useRun, type UseRunOptions} from './hooks/use-run.js';
import {useFaultMarkers} from './hooks/use-fault-markers.js';
import {useStateRef} from './hooks/use-state-ref.js';
import {useTerminalSize} from './hooks/use-terminal-size.js';
import {PanesScreen} from './screens/panes-screen.js';
import {ConsoleView} from './screens/console-view.js';
import {ChecklistScreen} from './screens/checklist-screen.js';
import {TimelineScreen} from './screens/timeline-screen.js';
import {useWatch} from './hooks/use-watch.js';
import {useTimeline} from './hooks/use-timeline.js';
import {HelpOverlay, type KeyHelp} from './screens/help-overlay.js';
import {RunQuitConfirm} from './screens/run-quit-confirm.js';
import {SnapshotsScreen} from './screens/snapshots-screen.js';
import {useSnapshots} from './hooks/use-snapshots.js';
import {NodePowerConfirm} from './screens/node-power-confirm.js';
import {HostKeysConfirm} from './screens/host-keys-confirm.js';
import {useNewHostKeys} from './hooks/use-new-host-keys.js';
import type {NodePowerAction, NodePowerGuard} from './model/node-power.js';
import {elapsed, spinner} from './screens/components/run-format.js';
import {KeyDispatcher, useKeys, useTextEntry} from './screens/components/key-dispatcher.js';

export type RunScreenName = 'panes' | 'consoles' | 'checklist' | 'snapshots' | 'timeline';

const SCREEN_KEYS: Record<RunScreenName, KeyHelp> = {
	panes: [],
	consoles: [
		['tab → ←', 'move focus between consoles'],
		['z / enter', 'zoom the focused console, again to go back to all'],
		['↑ ↓ PgUp PgDn', 'scroll back (Home: oldest kept line)'],
		['End', 'follow new lines again'],
		['i', 'type into the focused console; ctrl-] stops typing'],
		['x / s / r', 'stop / start / restart the focused node (the quorum guard asks first)'],
	],
	checklist: [
		['↑ ↓ PgUp PgDn', 'scroll the checklist'],
		['w', 'watch mode on/off: the checks run again every few seconds once the run is done'],
	],
	timeline: [
		['↑ ↓ PgUp PgDn Home', 'scroll back'],
		['End', 'follow new entries again'],
	],
	snapshots: [
		['↑ ↓', 'choose a snapshot'],
		['n', 'save a new snapshot of the whole cluster'],
		['r', 'restore the chosen snapshot (asks first)'],
		['d', 'delete the chosen snapshot (asks first)'],
	],
};

const RUN_KEYS: KeyHelp = [
	['p', 'one pane per node'],
	['c', 'every serial console at once'],
	['v', 'the validation checklist'],
	['s', 'snapshots of the cluster: save, restore, delete'],
	['t', 'the timeline: node phases, check transitions, facts, faults'],
	['?', 'this help (esc closes it)'],
	['q', 'quit (asks first; a run still going is stopped with its nodes)'],
	['ctrl-c', 'stop the run and the nodes it started, then quit'],
];

const FOOTER: Record<RunScreenName, string> = {
	panes: 'c consoles · v checklist · t timeline · s snapshots · ? help · q quit',
	consoles: 'tab focus · z zoom · ↑↓ PgUp PgDn scroll · End follow · i type · x/s/r stop/start/restart · p panes · v checklist · q quit',
	checklist: '↑↓ scroll · w watch · t timeline · s snapshots · p panes · c consoles · ? help · q quit',
	timeline: '↑↓ PgUp PgDn scroll · End follow · v checklist · p panes · c consoles · ? help · q quit',
	snapshots: '↑↓ choose · n save · r restore · d delete · p panes · v checklist · q quit',
};

// Existing machines (target ssh-hosts): node power and snapshots work on the VMs plasma-tui starts itself only.
const NOT_ON_MACHINES = 'snapshots work on the VMs plasma-tui starts itself; not available for existing machines (target ssh-hosts)';
function footerFor(screen: RunScreenName, onMachines: boolean): string {
	return onMachines ? FOOTER[screen].replace('x/s/r stop/start/restart · ', '').replace('s snapshots · ', '') : FOOTER[screen];
}

type Props = {
	profile: Profile;
	services: RunServices;
	onExit: () => void;
	options?: UseRunOptions;
};

function StageLine({stages, now}: {stages: StageView[]; now: number}) {
	if (stages.length === 0) return <Text dimColor>{`${spinner(now)} starting`}</Text>;
	return (
		<Text wrap="truncate-end">
			{stages.map(stage => {
				const mark = stage.status === 'done' ? ['✓', 'green'] : stage.status === 'failed' ? ['✗', 'red'] : stage.status === 'skipped' ? ['-', 'gray'] : [spinner(now), 'cyan'];
				return <Text key={stage.name} color={mark[1]}>{`${mark[0]} ${stage.name}   `}</Text>;
			})}
		</Text>
	);
}

// The run after the plan: starts the deployment, shows it live, and owns the
// keys that switch between panes, consoles and the checklist.
export function RunApp(props: Props) {
	return (
		<KeyDispatcher>
			<FirstContact {...props} />
		</KeyDispatcher>
	);
}

// On existing machines the run starts once the operator has said which new
// host keys it may pin (never silently); elsewhere at once.
function FirstContact(props: Props) {
	const {profile, services, onExit} = props;
	const decision = useNewHostKeys(profile, services);
	const {rows} = useTerminalSize();
	useKeys(
		(input, key) => {
			if (key.ctrl && input === 'c') onExit();
			else if (decision.status !== 'asking') return true;
			else if (input === 'y') decision.accept();
			else if (input === 'n' || key.escape) decision.decline();
			return true;
		},
		{priority: 'overlay', active: decision.status !== 'decided'},
	);
	const approved = decision.status === 'decided' ? decision.approved : undefined;
	const gated = useMemo<RunServices>(
		() => (approved && Object.keys(approved).length > 0 ? {...services, startRun: (p, options) => services.startRun(p, {...options, approvedHostKeys: approved})} : services),
		[approved, services],
	);
	if (decision.status === 'decided') return <Run {...props} services={gated} />;
	return (
		<Box flexDirection="column" height={Math.max(10, rows - 1)} overflow="hidden">
			<Text bold color="cyan">{`plasma-tui · profile ${profile.name} · run`}</Text>
			{decision.status === 'scanning' ? <Text dimColor>reading the host key each machine presents…</Text> : <HostKeysConfirm keys={decision.keys} />}
		</Box>
	);
}

function Run({profile, services, onExit, options}: Props) {
	const {isRawModeSupported} = useStdin();
	const {rows, columns} = useTerminalSize();
	const run = useRun(profile, services, options);
	const markers = useFaultMarkers(profile, services, run.emit);
	const [screen, setScreen] = useStateRef<RunScreenName>('panes');
	const [overlay, setOverlay, overlayRef] = useStateRef<'help' | 'quit' | 'power' | undefined>(undefined);
	const [power, setPower, powerRef] = useStateRef<(NodePowerGuard & {node: string; action: NodePowerAction}) | undefined>(undefined);
	const [powerNote, setPowerNote] = useStateRef<string | undefined>(undefined);
	const typing = useTextEntry();
	const [leaving, setLeaving, leavingRef] = useStateRef(false);
	const switched = useRef(false);
	const running = run.outcome === undefined;
	const onMachines = profile.target.kind === 'ssh-hosts';
	const snapshots = useSnapshots(profile, onMachines ? undefined : services.snapshots, screen === 'snapshots');
	// Watch mode needs a cluster that validated and keeps running (not an interrupted or stopped run).
	const watching = useWatch(profile, services, {ready: run.outcome?.report !== undefined && !run.outcome.interrupted && !leaving, emit: run.emit, intervalMs: options?.watchIntervalMs});
	const timeline = useTimeline(profile, services, screen === 'timeline', options?.timelinePollMs);

	// Once validation ends the checklist is the answer, unless the operator already chose a view.
	const validation = stageOf(run.view, 'validate');
	useEffect(() => {
		if (validation && validation.status !== 'start' && !switched.current) setScreen('checklist');
	}, [validation?.status]);

	const leave = (stopNodes: boolean) => {
		// A second ctrl-c while stopping leaves at once; `plasma-tui down` cleans up after.
		if (leavingRef.current || !stopNodes || !running) return onExit();
		setLeaving(true);
		setOverlay(undefined);
		void run.stop().then(onExit);
	};

	// A node stop, start or restart: the quorum guard's message first, the action only after y.
	const askPower = (node: string, action: NodePowerAction) => {
		if (!services.nodePowerGuard || !services.powerNode) return;
		if (run.outcome === undefined) return setPowerNote(`${action} ${node}: wait until the run has finished`);
		void services.nodePowerGuard(profile, node, action).then(
			guard => {
				setPower({...guard, node, action});
				setOverlay('power');
			},
			(error: unknown) => setPowerNote(`${action} ${node}: ${(error as Error).message}`),
		);
	};
	const confirmPower = () => {
		const chosen = powerRef.current;
		setOverlay(undefined);
		if (!chosen || !services.powerNode) return;
		setPowerNote(`${chosen.action} ${chosen.node}: ${chosen.message}…`);
		void services.powerNode(profile, chosen.node, chosen.action, {onEvent: run.emit}).then(
			result => setPowerNote(`${chosen.node}: ${result}`),
			(error: unknown) => setPowerNote(`${chosen.action} ${chosen.node} failed: ${(error as Error).message}`),
		);
	};

	// ctrl-c passes every overlay: it stops the run from anywhere (but goes to a console being typed into).
	useKeys(
		(input, key) => {
			if (key.ctrl && input === 'c') return false;
			const current = overlayRef.current;
			if (leavingRef.current) return true;
			if (current === 'help') {
				if (key.escape || input === '?') setOverlay(undefined);
			} else if (current === 'quit') {
				if (input === 'y') leave(true);
				else if (input === 'n' || key.escape) setOverlay(undefined);
			} else if (current === 'power') {
				if (input === 'y') confirmPower();
				else if (input === 'n' || key.escape) setOverlay(undefined);
			}
			return current !== undefined;
		},
		{priority: 'overlay', active: true},
	);
	useKeys(
		(input, key) => {
			const choose = (next: RunScreenName) => {
				switched.current = true;
				setScreen(next);
			};
			if (key.ctrl && input === 'c') leave(true);
			else if (input === 'p') choose('panes');
			else if (input === 'c') choose('consoles');
			else if (input === 'v') choose('checklist');
			else if (input === 's') choose('snapshots');
			else if (input === 't') choose('timeline');
			else if (input === 'w' && watching.available) watching.toggle();
			else if (input === '?') setOverlay('help');
			else if (input === 'q') setOverlay('quit');
			else return false;
			return true;
		},
		{priority: 'global', active: true},
	);

	const height = Math.max(10, rows - 1);
	const bodyHeight = height - 4;
	const active = isRawModeSupported && overlay === undefined && !leaving;
	const outcome = run.outcome;
	const status = leaving
		? {text: `${spinner(run.now)} stopping the nodes this run started…`, color: 'yellow'}
		: outcome === undefined
			? {text: `running for ${elapsed(run.now - run.view.startedAt)}`, color: 'gray'}
			: outcome.exitCode === 0
				? {text: `done: every stage passed; the cluster keeps running (plasma-tui down --profile ${profile.name} stops it)`, color: 'green'}
				: {text: `${outcome.interrupted ? 'interrupted' : `failed${outcome.failedStage ? ` at ${outcome.failedStage}` : ''}`}${outcome.error ? `: ${outcome.error}` : ''} (exit ${outcome.exitCode})`, color: 'red'};
	const nodes = run.view.nodeNames.map(name => run.view.nodes[name]!);

	let body;
	if (screen === 'consoles') {
		body = (
			<ConsoleView
				nodes={nodes}
				width={columns}
				height={bodyHeight}
				isActive={active}
				onSend={(node, data) => services.sendToConsole?.(node, data)}
				onPower={services.powerNode && !onMachines ? askPower : undefined}
			/>
		);
	} else if (screen === 'checklist') {
		body = <ChecklistScreen view={run.view} now={run.now} width={columns} height={bodyHeight} isActive={active} report={outcome?.report} watch={watching.available ? watching.watch : undefined} />;
	} else if (screen === 'timeline') {
		body = <TimelineScreen entries={timeline.entries} error={timeline.error} width={columns} height={bodyHeight} isActive={active} />;
	} else if (screen === 'snapshots') {
		body = (
			<SnapshotsScreen
				rows={snapshots.rows}
				busy={snapshots.busy}
				message={snapshots.message}
				unavailable={onMachines ? NOT_ON_MACHINES : !services.snapshots ? 'snapshots are not available here' : running ? 'available once the run has ended (the run holds the work directory)' : undefined}
				width={columns}
				height={bodyHeight}
				isActive={active}
				onAction={snapshots.act}
			/>
		);
	} else body = <PanesScreen view={run.view} now={run.now} width={columns} height={bodyHeight} markers={markers} />;

	return (
		<Box flexDirection="column" height={height} overflow="hidden">
			<Box justifyContent="space-between">
				<Text bold color="cyan">{`plasma-tui · profile ${profile.name} · run`}</Text>
				<Text dimColor>{screen}</Text>
			</Box>
			<StageLine stages={run.view.stages} now={run.now} />
			<Box flexDirection="column" height={bodyHeight} overflow="hidden">
				{overlay === 'help' ? <HelpOverlay title={`run: ${screen}`} keys={SCREEN_KEYS[screen]} common={RUN_KEYS} /> : null}
				{overlay === 'quit' ? <RunQuitConfirm profileName={profile.name} running={running} /> : null}
				{overlay === 'power' && power ? <NodePowerConfirm {...power} /> : null}
				{/* Kept mounted under an overlay, so focus, zoom and scrollback survive it. */}
				<Box display={overlay ? 'none' : 'flex'} flexDirection="column">
					{body}
				</Box>
			</Box>
			<Text wrap="truncate-end" color={status.color}>
				{powerNote && !leaving ? powerNote : status.text}
			</Text>
			<Text dimColor wrap="truncate-end">
				{typing ? 'typing into the focused console: every key goes to the node · ctrl-] stops typing' : footerFor(screen, onMachines)}
			</Text>
		</Box>
	);
}
