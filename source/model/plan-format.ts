import {printable, visible} from './field-error.js';
import type {Plan} from './plan.js';

// Rows of cells, each column as wide as its widest cell (names and hostnames
// have no fixed length), indented by two spaces and without trailing blanks.
// `gaps[i]` separates column i from the next (two spaces where not given).
function table(rows: string[][], gaps: string[] = []): string[] {
	const widths: number[] = [];
	for (const row of rows) row.forEach((cell, column) => (widths[column] = Math.max(widths[column] ?? 0, cell.length)));
	return rows.map(row => `  ${row.map((cell, column) => cell.padEnd(widths[column]!) + (column < row.length - 1 ? (gaps[column] ?? '  ') : '')).join('')}`.trimEnd());
}

function checkLines(plan: Plan): string[] {
	if (plan.checks.length === 0) return [];
	return ['', 'checks (validate stage):', ...table(plan.checks.map(c => [printable(c.name), c.type, c.port === undefined ? '' : `port ${c.port}`, `timeout ${c.timeoutSec} s`]))];
}

function nodeLines(plan: Plan): string[] {
	return table(plan.nodes.map(n => [printable(n.name), n.role, n.ip, n.mac, printable(n.hostname), n.sshHost ? `ssh ${n.sshHost.user}@${n.sshHost.host}:${n.sshHost.port}` : `ssh 127.0.0.1:${n.sshPort}`, `${n.vcpus} vCPU`, `${n.memoryMiB} MiB`, `${n.diskGiB} GiB`]), [' ', ' ', ' ']);
}

// Arguments are shown one option per line so a long QEMU command stays readable.
export function formatPlan(plan: Plan): string {
	const lines = [
		`profile ${plan.profileName}: ${plan.nodes.length} nodes, accelerator ${plan.accelNote}`,
		`work directory ${plan.workDir}`,
		`stages: ${plan.stages.join(' -> ')}`,
		'',
		'nodes:',
		...nodeLines(plan),
		...checkLines(plan),
		'',
		`host keys (ssh.hostKeyPolicy ${plan.ssh.hostKeyPolicy}):`,
		...plan.nodes.map(n => `  ${n.name.padEnd(8)} ${n.hostKey.expect}`),
		'',
		'will create:',
		...plan.creates.map(t => `  ${t.kind.padEnd(7)} ${t.path}  (${t.note})`),
	];
	for (const node of plan.nodes) {
		if (node.qemuArgs.length > 0) lines.push('', `qemu-system-x86_64 for ${node.name}:`, ...optionLines(node.qemuArgs));
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
