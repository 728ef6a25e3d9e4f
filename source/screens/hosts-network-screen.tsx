import type {StepScreenProps} from './components/step-props.js';
import {jumpText, setHostCell, type HostCell} from '../model/ssh-hosts-edits.js';
import {NodeGridStep, type NodeColumn} from './components/node-grid-step.js';

// The network step when the target is existing machines: nothing is assigned,
// each machine's SSH address, port and user and its cluster IP are asked for.

// 68 columns of cells: with the cursor and the node name, a row fits an 80-column terminal.
const COLUMNS: Array<NodeColumn<HostCell>> = [
	{cell: 'host', label: 'SSH host', width: 15},
	{cell: 'port', label: 'port', width: 5},
	{cell: 'user', label: 'user', width: 7},
	{cell: 'jump', label: 'bastion', width: 16},
	{cell: 'ip', label: 'cluster IP', width: 16},
	{cell: 'hostname', label: 'hostname', width: 9},
];

const FIELD_OF: Record<HostCell, string> = {host: 'ssh.host', port: 'ssh.port', user: 'ssh.user', jump: 'ssh.jump', ip: 'ip', hostname: 'hostname'};
const SCREEN_FIELDS = /^(network\.|nodes\[\d+\]\.(ip|hostname|ssh(\..*)?)$)/;

// A long host name or bastion is cut (its whole text is in the edit field), so the columns stay aligned.
function fitCell(text: string, width: number): string {
	return text.length < width ? text.padEnd(width) : `${text.slice(0, width - 2)}… `;
}

export function HostsNetworkScreen(props: StepScreenProps) {
	const {profile, errors} = props;
	const valueOf = (index: number, cell: HostCell): string => {
		const node = profile.nodes[index]!;
		if (cell === 'ip') return node.ip ?? '';
		if (cell === 'hostname') return node.hostname ?? node.name;
		if (cell === 'user') return node.ssh?.user ?? profile.ssh.user;
		if (cell === 'port') return String(node.ssh?.port ?? 22);
		if (cell === 'jump') return jumpText(node.ssh?.jump);
		return node.ssh?.host ?? '';
	};
	return (
		<NodeGridStep
			{...props}
			title="Network: existing machines"
			hint="Each machine's SSH address (and the bastion it is reached through, [user@]host[:port]) and its IP on the cluster network; nothing is auto-assigned. Enter edits a cell."
			columns={COLUMNS}
			fields={SCREEN_FIELDS}
			setCell={setHostCell}
			cellOf={(index, {cell, width}) => {
				const node = profile.nodes[index]!;
				const value = valueOf(index, cell);
				return {
					shown: fitCell(value || (cell === 'jump' ? '(none)' : '(required)'), width),
					edit: {text: value, original: value},
					auto: (cell === 'user' && node.ssh?.user === undefined) || (cell === 'hostname' && node.hostname === undefined) || (cell === 'jump' && !value),
					// A bastion's own fields (ssh.jump.host, ...) mark its cell.
					error: errors.some(e => e.field === `nodes[${index}].${FIELD_OF[cell]}` || (cell === 'jump' && e.field.startsWith(`nodes[${index}].ssh.jump.`)) || (cell === 'host' && e.field === `nodes[${index}].ssh`)),
				};
			}}
		/>
	);
}
