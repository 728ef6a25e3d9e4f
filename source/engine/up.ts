import {setTimeout as sleep} from 'node:timers/promises';
import type {Profile} from '../model/profile-schema.js';
import {notRunReasons} from '../model/failure-reason.js';
import {withAccel, withSnapshotBoot, type NodePlan, type Plan} from '../model/plan.js';
import {nodeWaitReporter, type NodePhase, type RunEvent, type RunEventListener} from '../model/events.js';
import {formatProblem, problemOf} from '../model/field-error.js';
import type {StageName} from '../model/stages.js';
import {accelFindings, chosenAccel, describeFinding, runPreflight, type Finding} from '../services/preflight.js';
import {ensureDemoImage} from '../services/image.js';
import {NodeSsh, waitForSsh, type NetbootWindow, type SshTarget} from '../services/ssh.js';
import {fingerprintOfPublicKeyFile} from '../services/ssh-keys.js';
import {describeHostKey} from '../model/host-key.js';
import {clearFaults} from './faults.js';
import {StateStore} from '../services/state.js';
import {hostTarget} from '../services/ssh-hosts-preflight.js';
import {runUpSshHosts} from './up-ssh-hosts.js';
import {bootCluster, exitReason, type BootedNode, type BootResult} from './boot.js';
import {TimelineRecorder} from './timeline-recorder.js';
import {markStarting} from './cluster-power.js';
import {formatTiming} from '../model/check-start.js';
import type {NodeArrival, ValidateRunningResult} from './validate-running.js';
import {planDigest} from '../model/rerun.js';

// The one place that sequences a run: preflight, image, certificates, boot,
// install, validate. Nodes advance independently: each starts its install as
// soon as its own SSH answers, and one failing node does not stop the others.
// The TUI and the headless commands both only consume the events.

export type UpOptions = {
	// Built once by the caller from the same profile; the engine only adds preflight's accelerator.
	plan: Plan;
	onEvent: RunEventListener;
	signal?: AbortSignal;
	forceInstall?: boolean;
	// Stop after boot (tests of the boot stage; `up --boot-only`).
	bootOnly?: boolean;
	// `up --from-snapshot NAME`: every node starts from its saved state; nothing is built, issued or installed.
	fromSnapshot?: string;
	// Target ssh-hosts: pin the host key a machine presents when none is pinned yet (and print it).
	acceptNewHostKeys?: boolean;
	// Target ssh-hosts: keys the operator confirmed one by one (the TUI), by pin name: only these are pinned.
	approvedHostKeys?: Record<string, string>;
	// On a cluster already up and validated: run every check again, not only the node-local ones.
	full?: boolean;
};

export type UpResult = {
	exitCode: number;
	// The first stage that failed; unset when the run passed or was interrupted.
	failedStage?: StageName;
	// The run ended on its abort signal (exit 130).
	interrupted?: boolean;
	plan?: Plan;
	phases: Record<string, NodePhase>;
	reportOk?: boolean;
};

// The host key the node must present follows the plan (node.hostKey); `netboot`
// is given only for a QEMU this run started, and only until its install.
export function sshTargetFor(plan: Plan, node: NodePlan, netboot?: NetbootWindow): SshTarget {
	if (node.sshHost) return hostTarget(plan, node);
	return {
		node: node.name,
		host: '127.0.0.1',
		port: node.sshPort,
		username: plan.ssh.user,
		privateKeyPath: plan.ssh.privateKey,
		pinStorePath: plan.ssh.knownHosts,
		pinned: node.pinnedHostKey,
		policy: node.hostKey.policy,
		generatedPublicKey: node.files.hostKeyPub,
		netboot,
	};
}

// Fires when the node's QEMU exits: ends its SSH wait, refuses its install and stops nixos-anywhere.
export function nodeGoneSignal(exited: Promise<unknown>, node: string): AbortSignal {
	const gone = new AbortController();
	void exited.then(() => gone.abort(new Error(`${node}'s QEMU exited`)), () => undefined);
	return gone.signal;
}

// The pane's line: which key is expected from this node in which phase.
async function hostKeyLine(plan: Plan, node: NodePlan, booted: BootedNode): Promise<string> {
	const generated = await fingerprintOfPublicKeyFile(node.files.hostKeyPub).catch(() => `key ${node.files.hostKeyPub}`);
	return describeHostKey({policy: node.hostKey.policy, sshPort: node.sshPort, pinned: node.pinnedHostKey, generated, knownHosts: plan.ssh.knownHosts, qemu: {pid: booted.pid, attached: booted.attached}});
}

export class Stage {
	constructor(
		private readonly emit: (event: RunEvent) => void,
		readonly name: StageName,
	) {
		emit({type: 'stage', stage: name, status: 'start', at: Date.now()});
	}

	// A planned stage this run does not reach on purpose (`--boot-only`).
	static skipped(emit: (event: RunEvent) => void, name: StageName, message: string) {
		emit({type: 'stage', stage: name, status: 'skipped', message, at: Date.now()});
	}

	done(message?: string) {
		this.emit({type: 'stage', stage: this.name, status: 'done', message, at: Date.now()});
	}

	failed(message: string) {
		this.emit({type: 'stage', stage: this.name, status: 'failed', message, at: Date.now()});
	}
}

export async function runUp(profile: Profile, options: UpOptions): Promise<UpResult> {
	// The run's SSH sessions end with it on every path (done, failed, interrupted, thrown):
	// open ones would keep the caller's process alive, and no caller has a use for them.
	const connections = new Map<string, NodeSsh>();
	// Node phases, check results and the facts they learn go into the run's timeline.
	const timeline = new TimelineRecorder(options.plan, 'up', profile.name, message => options.onEvent({type: 'log', level: 'warn', message, at: Date.now()}));
	try {
		const withTimeline = {...options, onEvent: timeline.listener(options.onEvent)};
		if (options.plan.target.kind === 'ssh-hosts') return await runUpSshHosts(profile, withTimeline, connections);
		return (await rerun(profile, withTimeline)) ?? (await sequenceRun(profile, withTimeline, connections));
	} finally {
		for (const connection of connections.values()) connection.close();
		await timeline.flush();
	}
}

// Up again on a cluster that is up and validated: validation only. Otherwise undefined, and why when something runs.
async function rerun(profile: Profile, options: UpOptions): Promise<UpResult | undefined> {
	if (options.bootOnly || options.fromSnapshot || options.forceInstall || !options.plan.stages.includes('validate') || options.plan.problems.length > 0) return undefined;
	const {rerunCheck, rerunUp} = await import('./up-rerun.js');
	const verdict = await rerunCheck(options.plan);
	if (verdict.rerun) return rerunUp(profile, options.plan, {full: options.full === true, why: verdict.why, lastReport: verdict.lastReport, onEvent: options.onEvent, signal: options.signal});
	if (verdict.why) options.onEvent({type: 'log', level: 'info', message: `up: a cluster runs, but not as validated (${verdict.why}): the whole run follows`, at: Date.now()});
	return undefined;
}

async function sequenceRun(profile: Profile, options: UpOptions, connections: Map<string, NodeSsh>): Promise<UpResult> {
	const emit = options.onEvent;
	let phases: Record<string, NodePhase> = Object.fromEntries(profile.nodes.map(n => [n.name, 'pending' as NodePhase]));
	const result = (exitCode: number, extra: Partial<UpResult> = {}): UpResult => ({exitCode, phases, ...extra});
	const log = (message: string, level: 'info' | 'warn' | 'error' = 'info', node?: string) => emit({type: 'log', level, message, node, at: Date.now()});
	const interrupted = (plan?: Plan) => result(130, {interrupted: true, plan});

	// Preflight
	let stage = new Stage(emit, 'preflight');
	// Plan problems need no probing of the host: they end the run first.
	if (options.plan.problems.length > 0) {
		stage.failed(options.plan.problems.map(formatProblem).join('; '));
		return result(2, {failedStage: 'preflight', plan: options.plan});
	}
	// Under boot.accel auto the KVM probe only chooses the accelerator: it runs alongside image and
	// certificates, once the state file can record its QEMU.
	const probing = options.plan.accelWanted === 'auto';
	const findings = await runPreflight(options.plan, {probeKvm: !probing});
	// The event's level says warn or fail; the line carries the finding and its fix.
	// A boot file that is only not built yet is answered by the stage that builds it: the screens drop the warning then.
	const builtBy: StageName | undefined = options.plan.stages.includes('nix build') ? 'nix build' : options.plan.stages.includes('image') ? 'image' : undefined;
	for (const finding of findings) {
		if (finding.status === 'ok') continue;
		const resolvedBy = finding.status === 'warn' && finding.id.startsWith('boot:') ? builtBy : undefined;
		emit({type: 'log', level: finding.status === 'fail' ? 'error' : 'warn', message: describeFinding(finding), resolvedBy, at: Date.now()});
	}
	const failures = findings.filter(f => f.status === 'fail');
	if (failures.length > 0) {
		stage.failed(failures.map(f => f.message).join('; '));
		return result(1, {failedStage: 'preflight'});
	}
	let plan = withAccel(options.plan, chosenAccel(findings));
	if (options.signal?.aborted) return interrupted(plan);
	// One state store for the whole run: the KVM probe, the image build and nix are recorded in it while they run, like QEMU later.
	// Opening it checks and makes the work directory as the tool's own (services/owned-dir.ts).
	const runState = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
	const accelProbe = probing ? accelFindings(options.plan, true, undefined, {signal: options.signal, state: runState}) : undefined;
	void accelProbe?.catch(() => undefined);
	const fromSnapshot = options.fromSnapshot;
	// The probe's verdict, once taken: a snapshot must start under the accelerator it was saved with, so it waits for it.
	let pendingProbe = accelProbe;
	const takeProbe = async () => {
		if (!pendingProbe) return;
		const accel = await pendingProbe.catch((error: unknown): Finding[] => [{id: 'accel', status: 'warn', message: `TCG: the KVM probe failed: ${(error as Error).message}`}]);
		pendingProbe = undefined;
		for (const finding of accel) if (finding.status !== 'ok') log(describeFinding(finding), finding.status === 'fail' ? 'error' : 'warn');
		plan = withAccel(plan, chosenAccel(accel));
		log(`accelerator ${plan.accel.toUpperCase()}`);
	};
	if (fromSnapshot) {
		await takeProbe();
		// Refused before anything starts: a snapshot the plan no longer fits, a disk without it, a cluster that runs.
		try {
			const {assertSnapshotBootable} = await import('./snapshot-boot.js');
			await assertSnapshotBootable(plan, fromSnapshot);
		} catch (error) {
			stage.failed(formatProblem(problemOf(error)));
			return result(1, {failedStage: 'preflight', plan});
		}
		plan = withSnapshotBoot(plan, fromSnapshot);
	}
	if (fromSnapshot) stage.done(`accelerator ${plan.accel.toUpperCase()}; starting every node from snapshot ${fromSnapshot}`);
	else stage.done(pendingProbe ? 'accelerator: the KVM probe runs alongside image and certificates' : `accelerator ${plan.accel.toUpperCase()}`);

	// A cluster is never left partitioned, frozen or slowed by an earlier rehearsal.
	for (const line of await clearFaults(plan, runState)) log(`fault ${line}`, 'warn');
	const restarted = await markStarting(runState, plan);
	if (restarted) log(`starting the cluster again (${restarted}): installed nodes boot from their disks, control planes first`);
	// Image and certificates are independent: both run at once.
	const imageStage = async () => {
		if (plan.stages.includes('nix build') && plan.boot.nixBuild) return nixStage(plan.boot.nixBuild);
		if (!plan.stages.includes('image') || !plan.boot.imageDir) return;
		const imageDir = plan.boot.imageDir;
		const s = new Stage(emit, 'image');
		try {
			const image = await ensureDemoImage(imageDir, {signal: options.signal, state: runState, onLine: line => log(`image: ${line}`)});
			s.done(image.built ? 'built' : 'cached');
		} catch (error) {
			s.failed(formatProblem(problemOf(error)));
			throw error;
		}
	};
	// The plasmacloud netboot kernel and initrd come from the flake; built once, then linked where the plan points.
	const nixStage = async (build: NonNullable<Plan['boot']['nixBuild']>) => {
		const s = new Stage(emit, 'nix build');
		try {
			const {ensureNixNetboot} = await import('../services/nix.js');
			const image = await ensureNixNetboot(build, {signal: options.signal, state: runState, onLine: line => log(`nix: ${line}`)});
			s.done(image.built ? `built ${image.outPath}` : `already built (${image.outPath})`);
		} catch (error) {
			s.failed(formatProblem(problemOf(error)));
			throw error;
		}
	};
	const certStage = async () => {
		const s = new Stage(emit, 'certificates');
		try {
			const {writeArtifacts} = await import('../services/artifacts.js');
			// Only warnings (a host key replaced): every file written is in the stage's count.
			const report = await writeArtifacts(plan, {onEvent: event => event.type === 'log' && event.level !== 'info' && emit(event)});
			s.done(`${report.written.length} files written, ${report.unchanged.length} unchanged`);
		} catch (error) {
			s.failed(formatProblem(problemOf(error)));
			throw error;
		}
	};
	const skipForSnapshot = (name: StageName) => Stage.skipped(emit, name, `every node starts from snapshot ${fromSnapshot}`);
	if (fromSnapshot) for (const name of plan.stages.filter(s => s === 'image' || s === 'nix build' || s === 'certificates')) skipForSnapshot(name);
	const prepared = fromSnapshot ? [] : await Promise.allSettled([imageStage(), certStage()]);
	// Nothing runs yet when an interrupt lands here: the image build and certificates end with the signal.
	if (options.signal?.aborted) return interrupted(plan);
	const unprepared = prepared.findIndex(p => p.status === 'rejected');
	if (unprepared >= 0) return result(1, {failedStage: unprepared === 0 ? (plan.stages.includes('nix build') ? 'nix build' : 'image') : 'certificates', plan});
	await takeProbe();

	// Boot: every node at once; each goes on to SSH and install as soon as it is ready.
	stage = new Stage(emit, 'boot');
	let boot: BootResult;
	try {
		boot = await bootCluster(profile, plan, {onEvent: emit, signal: options.signal, state: runState});
	} catch (error) {
		stage.failed((error as Error).message);
		return result(1, {failedStage: 'boot', plan});
	}
	if (boot.interrupted) return interrupted(plan);
	phases = boot.phases;
	const {state, nodePhases} = boot;
	const setPhase = (node: string, phase: NodePhase, reason?: string) => nodePhases.set(node, phase, reason);
	const installSlots = new Semaphore(profile.install.concurrency);
	const installs = plan.stages.includes('install') && !options.bootOnly;
	// Starts with the first node that reaches install, while slower nodes may still boot.
	let installStage: Stage | undefined;
	let failedStage: StageName | undefined;
	const endStage = (ended: Stage, reached: NodePhase, failed: NodePlan[]) => {
		if (failed.length === 0) return ended.done(`${plan.nodes.length} nodes ${reached}`);
		ended.failed(`${failed.map(n => n.name).join(', ')} failed; ${plan.nodes.length - failed.length} reached ${reached}`);
		failedStage ??= ended.name;
	};

	// A VM that dies mid-install first breaks the SSH session; its exit and last console lines say why.
	const failNode = async (booted: BootedNode, error: unknown) => {
		if (options.signal?.aborted) return;
		const exit = await Promise.race([booted.exited, sleep(2000, undefined, {ref: false})]);
		const reason = exit ? exitReason(exit, booted.recentConsole, phases[booted.node.name]) : (error as Error).message;
		await setPhase(booted.node.name, 'failed', reason);
	};

	// Per node: a signal that fires when its QEMU exits, and whether its netboot window
	// (another host key from this run's QEMU) is still open: it closes when install starts.
	const gone = new Map<string, AbortSignal>();
	const goneSignal = (booted: BootedNode) => {
		// Its console's fail line (boot.failPattern) ends its waits like an exit does.
		if (!gone.has(booted.node.name)) gone.set(booted.node.name, AbortSignal.any([nodeGoneSignal(booted.exited, booted.node.name), booted.consoleFailed]));
		return gone.get(booted.node.name)!;
	};
	const installBegun = new Set<string>();
	const validationOutcome = (validationStage: Stage, validated: ValidateRunningResult, {notRun}: {notRun?: string[]}): UpResult => {
		Object.assign(phases, validated.phases);
		const {report} = validated;
		if (!report) {
			validationStage.failed('no node answers on SSH any more');
			return result(1, {plan, failedStage: failedStage ?? 'validate'});
		}
		const count = (status: string) => report.results.filter(r => r.status === status).length;
		const took = formatTiming(report);
		if (report.ok && !notRun) validationStage.done(`${report.results.length} checks passed${took ? ` in ${took}` : ''}; report ${plan.report.text}`);
		else validationStage.failed(`${count('failed')} of ${report.results.length} checks failed, ${count('not-run')} not run${notRun ? ` (${notRun.join(', ')} did not finish)` : ''}; report ${plan.report.text}`);
		const ok = report.ok && !notRun;
		return result(ok ? 0 : 1, {plan, reportOk: ok, failedStage: failedStage ?? (ok ? undefined : 'validate')});
	};
	const netbootWindow = (booted: BootedNode): NetbootWindow | undefined =>
		booted.attached ? undefined : {pid: booted.pid, isOpen: () => !installBegun.has(booted.node.name) && !state.current.nodes[booted.node.name]?.installed};
	const withGone = (booted: BootedNode) => (options.signal ? AbortSignal.any([options.signal, goneSignal(booted)]) : goneSignal(booted));

	const reachSsh = async (node: NodePlan): Promise<{booted: BootedNode; ssh: NodeSsh} | undefined> => {
		const booted = boot.nodes.get(node.name);
		if (!booted) return; // failed to start: bootCluster gave the reason
		try {
			const target = sshTargetFor(plan, node, netbootWindow(booted));
			log(await hostKeyLine(plan, node, booted), 'info', node.name);
			const waitStart = Date.now();
			// A QEMU that dies ends this node's SSH wait at once (the run's own abort ends all of them).
			const ssh = await waitForSsh(target, {
				timeoutMs: profile.boot.sshTimeoutSec * 1000,
				signal: withGone(booted),
				// A node started from a snapshot never prints its ready line again: its sshd is up at once.
				wake: {promise: fromSnapshot ? Promise.resolve() : booted.ready},
				onWait: nodeWaitReporter(emit, node.name, `ssh on ${target.host}:${target.port}`),
			});
			connections.set(node.name, ssh);
			const trusted = ssh.hostKeyTrust === 'netboot' ? ` (netboot key of this run's QEMU pid ${booted.pid}, accepted until install)` : ` (${ssh.hostKeyTrust})`;
			// Refused when the node failed meanwhile (its QEMU exited): nothing to install on.
			if (!(await setPhase(node.name, 'ssh-ready', `host key ${ssh.hostKey}${trusted}, ${Math.round((Date.now() - waitStart) / 1000)} s`))) return;
			return {booted, ssh};
		} catch (error) {
			await failNode(booted, error);
			return;
		}
	};

	const install = async ({booted, ssh}: {booted: BootedNode; ssh: NodeSsh}): Promise<void> => {
		const {node} = booted;
		installStage ??= new Stage(emit, 'install');
		// From here on only the generated key: the netboot window closes before any install work.
		installBegun.add(node.name);
		const nodeSignal = withGone(booted);
		// Set once the install's reboot may have ended the first QEMU: its exit no longer explains a failure.
		let rebooting = false;
		try {
			const installed = state.current.nodes[node.name]?.installed;
			if (installed && !options.forceInstall) {
				log('install already done (use --force-install to run it again)', 'info', node.name);
				await setPhase(node.name, 'installed', 'skipped: done in an earlier run');
				return;
			}
			await installSlots.run(async () => {
				// No install on a node whose QEMU is gone, or that failed while it waited for a slot.
				nodeSignal.throwIfAborted();
				if (!(await setPhase(node.name, 'installing'))) return;
				nodeSignal.throwIfAborted();
				const {installNode} = await import('../services/install.js');
				nodeSignal.throwIfAborted();
				// nixos-anywhere's reboot ends a QEMU started with -no-reboot: that exit is the install's, not a failure.
				const reboot = node.install.method === 'nixos-anywhere' && node.install.reboot.restartsQemu && !booted.attached ? node.install.reboot : undefined;
				if (reboot) {
					booted.expectExit();
					rebooting = true;
				}
				await installNode({plan, node, ssh, state, signal: options.signal, nodeGone: reboot ? undefined : goneSignal(booted), qemuPid: booted.pid, onLine: line => emit({type: 'install-output', node: node.name, line, at: Date.now()})});
				await state.markInstalled(node.name, true);
				if (reboot) {
					ssh.close();
					connections.delete(node.name);
					await setPhase(node.name, 'installing', 'rebooting into the installed system');
					const {reconnectAfterInstall} = await import('./install-reboot.js');
					const rebooted = await reconnectAfterInstall({
						plan, node, reboot, first: booted, state, sshTimeoutMs: profile.boot.sshTimeoutSec * 1000, signal: options.signal,
						log: line => log(line, 'info', node.name),
						onWait: nodeWaitReporter(emit, node.name, `ssh after the reboot on 127.0.0.1:${node.sshPort}, host key of the extra files`),
					});
					connections.set(node.name, rebooted.ssh);
					await setPhase(node.name, 'installed', `booted from its disk; host key ${rebooted.ssh.hostKey} (the extra files')`);
					return;
				}
				if (profile.install.method === 'nixos-anywhere') {
					// nixos-anywhere reboots the node into the installed system: a new session, and only the generated key.
					const target = sshTargetFor(plan, node);
					ssh.close();
					connections.delete(node.name);
					await setPhase(node.name, 'installing', 'rebooting into the installed system');
					connections.set(node.name, await waitForSsh(target, {timeoutMs: profile.boot.sshTimeoutSec * 1000, signal: nodeSignal, onWait: nodeWaitReporter(emit, node.name, `ssh after the reboot on ${target.host}:${target.port}`)}));
				}
				await setPhase(node.name, 'installed');
			});
		} catch (error) {
			if (rebooting && !options.signal?.aborted) await setPhase(node.name, 'failed', formatProblem(problemOf(error)));
			else await failNode(booted, error);
		}
	};

	// Instead of install: the node's clock is stepped to now (it wakes with the time it was saved at).
	const resumeSaved = async ({booted, ssh}: {booted: BootedNode; ssh: NodeSsh}): Promise<void> => {
		try {
			const {stepGuestClock} = await import('../services/guest-clock.js');
			const behind = await stepGuestClock(ssh, {signal: options.signal});
			await state.markInstalled(booted.node.name, true);
			await setPhase(booted.node.name, 'installed', `restored from snapshot ${fromSnapshot}; guest clock stepped forward by ${behind} s`);
		} catch (error) {
			await failNode(booted, error);
		}
	};

	// Pipelined validation: each node comes into the validate stage as its install ends (its SSH answers,
	// when nothing is installed); its checks start then, cluster checks once enough members are there.
	const validates = plan.stages.includes('validate') && !options.bootOnly;
	const arrivals = new Map(plan.nodes.map(node => [node.name, settleable<NodeArrival>()]));
	// Nodes that did not finish boot or install: out of the validation, their checks not run.
	const leftOut: NodePlan[] = [];
	let validation: {stage: Stage; result: Promise<ValidateRunningResult>} | undefined;
	const startValidation = () => {
		if (!validates || validation) return;
		const stage = new Stage(emit, 'validate');
		const checks = {checks: profile.checks, state, phases: nodePhases, onEvent: emit, signal: options.signal, planDigest: planDigest(options.plan)};
		const result = import('./validate-running.js').then(({validateRunning}) => validateRunning(profile, plan, {...checks, arrivals: new Map([...arrivals].map(([name, a]) => [name, a.promise]))}));
		result.catch(() => undefined);
		validation = {stage, result};
	};
	const arrive = (node: NodePlan) => {
		const phase = nodePhases.of(node.name);
		const ssh = connections.get(node.name);
		if (phase === (installs || fromSnapshot ? 'installed' : 'ssh-ready') && ssh) {
			arrivals.get(node.name)!.settle({ssh});
			return startValidation();
		}
		leftOut.push(node);
		arrivals.get(node.name)!.settle({notRun: notRunReasons([node], state.current.nodes)![node.name]});
	};

	try {
		const reached = plan.nodes.map(reachSsh);
		const installed = reached.map(async (ready, index) => {
			try {
				const node = await ready;
				if (node && fromSnapshot) await resumeSaved(node);
				else if (node && installs) await install(node);
			} finally {
				if (!options.signal?.aborted) arrive(plan.nodes[index]!);
			}
		});
		if (fromSnapshot && installs) skipForSnapshot('install');
		// Boot counts the nodes that never answered; a node that fails later (in install) fails install.
		const answered = await Promise.all(reached);
		if (!options.signal?.aborted) endStage(stage, 'ssh-ready', plan.nodes.filter((_, index) => !answered[index]));
		await Promise.all(installed);
		if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
		if (fromSnapshot) {
			const {appendTimeline} = await import('../services/timeline.js');
			const resumed = plan.nodes.filter(n => !leftOut.includes(n)).map(n => n.name);
			await appendTimeline(plan.timelineFile, {at: new Date().toISOString(), kind: 'snapshot', subject: 'cluster', to: `booted from ${fromSnapshot}`, detail: `up --from-snapshot ${fromSnapshot}: ${resumed.length} of ${plan.nodes.length} nodes resumed (${resumed.join(', ')})`, data: {name: fromSnapshot, nodes: resumed.length}});
		}
		// The nodes that failed before validation (not those a check failed since: validation runs meanwhile).
		const failed = plan.nodes.filter(n => leftOut.includes(n));
		if (installStage) endStage(installStage, 'installed', failed);
		if (options.bootOnly) for (const name of plan.stages.slice(plan.stages.indexOf('boot') + 1)) Stage.skipped(emit, name, 'up --boot-only');
		// A node that failed after its stage ended (its QEMU exited) still fails the run.
		if (failed.length > 0) failedStage ??= installs ? 'install' : 'boot';
		if (!validates) return result(failed.length > 0 ? 1 : 0, {failedStage, plan});

		// A partial cluster is validated as far as it is up: the failed nodes' checks are reported as not run, with why.
		const notRun = notRunReasons(failed, state.current.nodes);
		if (notRun) log(`validating what is up: ${failed.map(n => n.name).join(', ')} did not finish, their checks are not run`, 'warn');
		// No node arrived: the stage still runs, to report every check as not run.
		startValidation();
		const validated = await validation!.result;
		return validationOutcome(validation!.stage, validated, {notRun: notRun ? failed.map(n => n.name) : undefined});
	} catch (error) {
		if (!options.signal?.aborted) throw error;
		// Only what this run started: nodes it attached to keep running.
		const stopped = await boot.stopStarted();
		log(`stopped: ${stopped.stopped.join(', ') || 'nothing was running yet'}`, 'warn');
		return interrupted(plan);
	} finally {
		boot.close();
	}
}

// A promise settled from outside, once: a node's arrival in the validation.
function settleable<T>(): {promise: Promise<T>; settle: (value: T) => void} {
	let settle: (value: T) => void = () => undefined;
	const promise = new Promise<T>(resolve => (settle = resolve));
	return {promise, settle};
}

// Caps how many nodes install at once (profile.install.concurrency).
export class Semaphore {
	#free: number;
	#waiting: Array<() => void> = [];

	constructor(count: number) {
		this.#free = Math.max(1, count);
	}

	async run<T>(work: () => Promise<T>): Promise<T> {
		if (this.#free === 0) await new Promise<void>(resolve => this.#waiting.push(resolve));
		else this.#free--;
		try {
			return await work();
		} finally {
			const next = this.#waiting.shift();
			if (next) next();
			else this.#free++;
		}
	}
}
