import {printable, visible} from './field-error.js';
import type {Plan} from './plan.js';

function checkLines(plan: Plan): string[] {
	if (plan.checks.length === 0) return [];
	const width = Math.min(28, Math.max(...plan.checks.map(c => printable(c.name).length)));
	return [
		'',
		'checks (validate stage):',
		...plan.checks.map(c => `  ${printable(c.name).padEnd(width)}  ${c.type.padEnd(13)}  ${(c.port === undefined ? '' : `port ${c.port}`).padEnd(10)}  timeout ${c.timeoutSec} s`),
	];
}

// Arguments are shown one option per line so a long QEMU command stays readable.
export function formatPlan(plan: Plan): string {
	const lines = [
		`profile ${plan.profileName}: ${plan.nodes.length} nodes, accelerator ${plan.accelNote}`,
		`work directory ${plan.workDir}`,
		`stages: ${plan.stages.join(' -> ')}`,
		'',
		'nodes:',
		...plan.nodes.map(n => `  ${n.name.padEnd(8)} ${n.role.padEnd(13)} ${n.ip.padEnd(15)} ${n.mac}  ${n.hostname}  ssh 127.0.0.1:${n.sshPort}  ${n.vcpus} vCPU  ${n.memoryMiB} MiB  ${n.diskGiB} GiB`),
		...checkLines(plan),
		'',
		`host keys (ssh.hostKeyPolicy ${plan.ssh.hostKeyPolicy}):`,
		...plan.nodes.map(n => `  ${n.name.padEnd(8)} ${n.hostKey.expect}`),
		'',
		'will create:',
		...plan.creates.map(t => `  ${t.kind.padEnd(7)} ${t.path}  (${t.note})`),
	];
	for (const node of plan.nodes) {
		lines.push('', `qemu-system-x86_64 for ${node.name}:`, ...optionLines(node.qemuArgs));
		if (node.install.method === 'nixos-anywhere') lines.push('', `nixos-anywhere for ${node.name}:`, ...optionLines(node.install.argv));
		if (node.install.method === 'push') lines.push('', `push install commands for ${node.name}:`, ...node.install.commands.map(command => `  $ ${visible(command)}`));
	}
	return lines.join('\n');
}

// One option per line: a flag and its value together.
function optionLines(args: string[]): string[] {
	const lines: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const next = args[i + 1];
		if (args[i]!.startsWith('-') && next !== undefined && !next.startsWith('-')) {
			lines.push(`  ${args[i]} ${next}`);
			i++;
		} else lines.push(`  ${args[i]}`);
	}
	return lines;
}
