import type {Profile} from '../model/profile-schema.js';
import type {NodePlan} from '../model/plan.js';
import {nodeWaitReporter, type NodePhase, type RunEventListener} from '../model/events.js';
import {formatProblem, problemOf} from '../model/field-error.js';
import type {StageName} from '../model/stages.js';
import {notRunReasons} from '../model/failure-reason.js';
import {describeFinding} from '../services/preflight.js';
import {preflightHosts} from '../services/ssh-hosts-preflight.js';
import {waitForSsh, type NodeSsh} from '../services/ssh.js';
import {StateStore} from '../services/state.js';
import {NodePhases} from './node-phases.js';
import {Semaphore, Stage, sshTargetFor, type UpOptions, type UpResult} from './up.js';

// A run onto machines that already exist (target ssh-hosts): nothing is built
// or booted. Preflight reaches every machine (host key, OS, disk, the cluster
// network), then certificates, install and validate run exactly as for VMs,
// through the sessions preflight opened.

export async function runUpSshHosts(profile: Profile, options: UpOptions, connections: Map<string, NodeSsh>): Promise<UpResult> {
	const emit: RunEventListener = options.onEvent;
	const plan = options.plan;
	const phases: Record<string, NodePhase> = Object.fromEntries(plan.nodes.map(n => [n.name, 'pending' as NodePhase]));
	const result = (exitCode: number, extra: Partial<UpResult> = {}): UpResult => ({exitCode, phases, plan, ...extra});
	const log = (message: string, level: 'info' | 'warn' | 'error' = 'info', node?: string) => emit({type: 'log', level, message, node, at: Date.now()});
	const interrupted = () => result(130, {interrupted: true});

	let stage = new Stage(emit, 'preflight');
	if (plan.problems.length > 0) {
		stage.failed(plan.problems.map(formatProblem).join('; '));
		return result(2, {failedStage: 'preflight'});
	}
	const checked = await preflightHosts(plan, {acceptNewHostKeys: options.acceptNewHostKeys, approvedHostKeys: options.approvedHostKeys, signal: options.signal});
	for (const [name, ssh] of checked.sessions) connections.set(name, ssh);
	for (const {node, where, fingerprint} of checked.accepted) log(`accepted new host key ${fingerprint} for ${node} (${where}), pinned in ${plan.ssh.knownHosts}`, 'warn', node);
	for (const finding of checked.findings) emit({type: 'log', level: finding.status === 'fail' ? 'error' : finding.status === 'warn' ? 'warn' : 'info', message: describeFinding(finding), at: Date.now()});
	if (options.signal?.aborted) return interrupted();
	const failures = checked.findings.filter(f => f.status === 'fail');
	if (failures.length > 0) {
		stage.failed(failures.map(f => f.message).join('; '));
		return result(1, {failedStage: 'preflight'});
	}
	stage.done(`${plan.nodes.length} machines answer, cluster network reachable`);

	const state = await StateStore.open(plan.stateFile, profile.name, plan.workDir);
	const nodePhases = new NodePhases(plan.nodes.map(n => n.name), emit, state);
	const setPhase = async (node: string, phase: NodePhase, reason?: string) => {
		const moved = await nodePhases.set(node, phase, reason);
		phases[node] = nodePhases.of(node);
		return moved;
	};
	// A machine is "booting" only in the sense of being connected to: preflight did it.
	for (const node of plan.nodes) {
		await setPhase(node.name, 'booting', `existing machine ${node.sshHost!.host}:${node.sshHost!.port}`);
		await setPhase(node.name, 'ssh-ready', `host key ${connections.get(node.name)!.hostKey}`);
	}

	stage = new Stage(emit, 'certificates');
	try {
		const {writeArtifacts} = await import('../services/artifacts.js');
		const report = await writeArtifacts(plan);
		stage.done(`${report.written.length} files written, ${report.unchanged.length} unchanged`);
	} catch (error) {
		stage.failed(formatProblem(problemOf(error)));
		return result(1, {failedStage: 'certificates'});
	}
	if (options.signal?.aborted) return interrupted();

	let failedStage: StageName | undefined;
	if (plan.stages.includes('install')) {
		stage = new Stage(emit, 'install');
		const slots = new Semaphore(profile.install.concurrency);
		await Promise.all(plan.nodes.map(node => slots.run(() => installOne(node))));
		const failed = plan.nodes.filter(n => phases[n.name] === 'failed');
		if (options.signal?.aborted) return interrupted();
		if (failed.length === 0) stage.done(`${plan.nodes.length} nodes installed`);
		else {
			stage.failed(`${failed.map(n => n.name).join(', ')} failed; ${plan.nodes.length - failed.length} reached installed`);
			failedStage = 'install';
		}
	}
	if (!plan.stages.includes('validate')) return result(failedStage ? 1 : 0, {failedStage});

	const failed = plan.nodes.filter(n => phases[n.name] === 'failed');
	const notRun = notRunReasons(failed, state.current.nodes);
	const validation = new Stage(emit, 'validate');
	const {validateRunning} = await import('./validate-running.js');
	const validated = await validateRunning(profile, plan, {checks: profile.checks, sessions: connections, state, phases: nodePhases, onEvent: emit, signal: options.signal, notRun});
	Object.assign(phases, validated.phases);
	const {report} = validated;
	if (!report) {
		validation.failed('no machine answers on SSH any more');
		return result(1, {failedStage: failedStage ?? 'validate'});
	}
	const ok = report.ok && !notRun;
	const count = (status: string) => report.results.filter(r => r.status === status).length;
	if (ok) validation.done(`${report.results.length} checks passed; report ${plan.report.text}`);
	else validation.failed(`${count('failed')} of ${report.results.length} checks failed, ${count('not-run')} not run; report ${plan.report.text}`);
	return result(ok ? 0 : 1, {reportOk: ok, failedStage: failedStage ?? (ok ? undefined : 'validate')});

	async function installOne(node: NodePlan): Promise<void> {
		const ssh = connections.get(node.name)!;
		try {
			if (state.current.nodes[node.name]?.installed && !options.forceInstall) {
				log('install already done (use --force-install to run it again)', 'info', node.name);
				await setPhase(node.name, 'installed', 'skipped: done in an earlier run');
				return;
			}
			options.signal?.throwIfAborted();
			await setPhase(node.name, 'installing', `onto ${node.sshHost!.host}:${node.sshHost!.port}`);
			// Recorded before the push starts: `down` then knows this machine has something to stop and remove.
			await state.markInstalled(node.name, false);
			const {installNode} = await import('../services/install.js');
			await installNode({plan, node, ssh, state, signal: options.signal, onLine: line => emit({type: 'install-output', node: node.name, line, at: Date.now()})});
			await state.markInstalled(node.name, true);
			if (profile.install.method === 'nixos-anywhere') {
				// The installed system presents the key the tool generated (it went in with --extra-files), not the old one.
				ssh.close();
				const target = {...sshTargetFor(plan, node), pinned: undefined, policy: 'generated' as const, generatedPublicKey: node.files.hostKeyPub};
				await setPhase(node.name, 'installing', 'rebooting into the installed system');
				connections.set(node.name, await waitForSsh(target, {timeoutMs: profile.install.timeoutSec * 1000, signal: options.signal, onWait: nodeWaitReporter(emit, node.name, `ssh after the reboot on ${target.host}:${target.port}`)}));
			}
			await setPhase(node.name, 'installed');
		} catch (error) {
			if (!options.signal?.aborted) await setPhase(node.name, 'failed', problemOf(error).message);
		}
	}
}
