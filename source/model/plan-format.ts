import {printable, visible} from './field-error.js';
import {nixBuildArgv, type Plan} from './plan.js';
import {sshHostAddress} from './ssh-hosts-plan.js';

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
	return table(plan.nodes.map(n => [printable(n.name), n.role, n.ip, n.mac, printable(n.hostname), n.sshHost ? `ssh ${sshHostAddress(n.sshHost)}` : `ssh 127.0.0.1:${n.sshPort}`, `${n.vcpus} vCPU`, `${n.memoryMiB} MiB`, `${n.diskGiB} GiB`]), [' ', ' ', ' ']);
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
	if (plan.boot.nixBuild) lines.push('', 'nix for the netboot image (nix build stage):', ...optionLines(nixBuildArgv(plan.boot.nixBuild)));
	for (const node of plan.nodes) {
		if (node.qemuArgs.length > 0) {
			const differs = node.qemuArgsInstalled.join('\0') !== node.qemuArgs.join('\0');
			lines.push('', `qemu-system-x86_64 for ${node.name}${differs ? ' (first boot, before its install)' : ''}:`, ...optionLines(node.qemuArgs));
			if (differs) lines.push('', `qemu-system-x86_64 for ${node.name} once installed (boot.afterInstall ${plan.boot.afterInstall}):`, ...optionLines(node.qemuArgsInstalled));
		}
		if (node.install.method === 'nixos-anywhere') lines.push('', `nixos-anywhere for ${node.name}${node.install.command === 'nixos-anywhere' ? '' : ` (run as ${node.install.command})`}:`, ...optionLines(node.install.argv));
		if (node.install.method === 'push') lines.push('', `push install commands for ${node.name}:`, ...node.install.commands.map(command => `  $ ${visible(command)}`));
	}
	return lines.join('\n');
}

// One option per line: a flag and its value together; an empty argument shows as ''.
function optionLines(given: string[]): string[] {
	const args = given.map(arg => (arg === '' ? "''" : arg));
	const lines: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const next = args[i + 1];
		// nix's --option takes a name and a value.
		if (args[i] === '--option' && i + 2 < args.length) {
			lines.push(`  --option ${next} ${args[i + 2]}`);
			i += 2;
			continue;
		}
		if (args[i]!.startsWith('-') && next !== undefined && !next.startsWith('-')) {
			lines.push(`  ${args[i]} ${next}`);
			i++;
		} else lines.push(`  ${args[i]}`);
	}
	return lines;
}
