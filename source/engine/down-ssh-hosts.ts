import type {Plan, NodePlan} from '../model/plan.js';
import {problemOf} from '../model/field-error.js';
import {failureReason} from '../model/failure-reason.js';
import {sshHostAddress} from '../model/ssh-hosts-plan.js';
import {withoutHostsBlock} from '../services/install.js';
import {shellQuote} from '../services/shell-quote.js';
import {hostTarget} from '../services/ssh-hosts-preflight.js';
import {NodeSsh, pinnedKeyFor} from '../services/ssh.js';
import {StateStore} from '../services/state.js';

// `down` on machines that already exist: nothing is powered off. On each
// machine the profile's uninstall commands stop what the install started, then
// what the push put there goes (the secrets directory, pushed files, the
// cluster block of /etc/hosts). Only a machine whose host key is pinned is touched.

export type HostDownReport = {node: string; done: string[]; failed: string[]};

const COMMAND_TIMEOUT_MS = 120_000;

// What down will do, for the operator to read before saying yes.
export function hostsDownInventory(plan: Plan): string[] {
	return plan.nodes.flatMap(node => {
		const host = node.sshHost!;
		const uninstall = node.uninstall!;
		return [
			`${node.name} (${sshHostAddress(host)}):`,
			...uninstall.commands.map(command => `  $ ${command}`),
			...[...uninstall.removeDirs, ...uninstall.removeFiles].map(file => `  remove ${file}`),
			'  remove the plasma-tui block of /etc/hosts',
		];
	});
}

async function downOne(plan: Plan, node: NodePlan, timeoutMs: number, hostsFile: string): Promise<HostDownReport> {
	const report: HostDownReport = {node: node.name, done: [], failed: []};
	const target = hostTarget(plan, node);
	if (!(await pinnedKeyFor(target))) {
		report.failed.push(`no host key is pinned for ${target.host}:${target.port}: not touched`);
		return report;
	}
	let ssh: NodeSsh;
	try {
		ssh = await NodeSsh.connect(target, {timeoutMs});
	} catch (error) {
		report.failed.push(problemOf(error).message);
		return report;
	}
	try {
		const uninstall = node.uninstall!;
		for (const [index, command] of uninstall.commands.entries()) {
			const result = await ssh.exec(command, {timeoutMs: COMMAND_TIMEOUT_MS});
			if (result.code === 0) report.done.push(`ran ${uninstall.commandFields[index]}`);
			else report.failed.push(`${uninstall.commandFields[index]} exited ${result.code ?? result.signal}: ${failureReason(result)}`);
		}
		const paths = [...uninstall.removeDirs, ...uninstall.removeFiles];
		if (paths.length > 0) {
			const removed = await ssh.exec(`rm -rf -- ${paths.map(shellQuote).join(' ')}`, {timeoutMs: 30_000});
			if (removed.code === 0) report.done.push(`removed ${paths.join(', ')}`);
			else report.failed.push(`removing ${paths.join(', ')}: ${failureReason(removed)}`);
		}
		const hosts = await ssh.exec(`cat ${shellQuote(hostsFile)}`, {timeoutMs: 30_000});
		const kept = withoutHostsBlock(hosts.stdout);
		if (hosts.code === 0 && kept !== hosts.stdout) {
			await ssh.writeFile(hostsFile, kept, 0o644);
			report.done.push(`removed the cluster block of ${hostsFile}`);
		}
	} catch (error) {
		report.failed.push(problemOf(error).message);
	} finally {
		ssh.close();
	}
	return report;
}

export async function downSshHosts(plan: Plan, profileName: string, options: {hostsFile?: string} = {}): Promise<HostDownReport[]> {
	if (plan.target.kind !== 'ssh-hosts') throw new Error('downSshHosts is for target ssh-hosts');
	const timeoutMs = plan.target.connectTimeoutSec * 1000;
	const reports = await Promise.all(plan.nodes.map(node => downOne(plan, node, timeoutMs, options.hostsFile ?? '/etc/hosts')));
	// The next up installs again on a machine down cleaned.
	const state = await StateStore.open(plan.stateFile, profileName, plan.workDir).catch(() => undefined);
	for (const report of reports) if (report.failed.length === 0) await state?.markInstalled(report.node, false);
	return reports;
}
