import type {StepScreenProps} from './components/step-props.js';
import {setHostCell, type HostCell} from '../model/ssh-hosts-edits.js';
import {NodeGridStep, type NodeColumn} from './components/node-grid-step.js';

// The network step when the target is existing machines: nothing is assigned,
// each machine's SSH address, port and user and its cluster IP are asked for.

const COLUMNS: Array<NodeColumn<HostCell>> = [
	{cell: 'host', label: 'SSH host', width: 18},
	{cell: 'port', label: 'port', width: 6},
	{cell: 'user', label: 'user', width: 9},
	{cell: 'ip', label: 'cluster IP', width: 17},
	{cell: 'hostname', label: 'hostname', width: 14},
];

const FIELD_OF: Record<HostCell, string> = {host: 'ssh.host', port: 'ssh.port', user: 'ssh.user', ip: 'ip', hostname: 'hostname'};
const SCREEN_FIELDS = /^(network\.|nodes\[\d+\]\.(ip|hostname|ssh(\..*)?)$)/;

export function HostsNetworkScreen(props: StepScreenProps) {
	const {profile, errors} = props;
	const valueOf = (index: number, cell: HostCell): string => {
		const node = profile.nodes[index]!;
		if (cell === 'ip') return node.ip ?? '';
		if (cell === 'hostname') return node.hostname ?? node.name;
		if (cell === 'user') return node.ssh?.user ?? profile.ssh.user;
		if (cell === 'port') return String(node.ssh?.port ?? 22);
		return node.ssh?.host ?? '';
	};
	return (
		<NodeGridStep
			{...props}
			title="Network: existing machines"
			hint="Each machine's SSH address and its IP on the cluster network; nothing is auto-assigned. Enter edits a cell."
			columns={COLUMNS}
			fields={SCREEN_FIELDS}
			setCell={setHostCell}
			cellOf={(index, {cell, width}) => {
				const node = profile.nodes[index]!;
				const value = valueOf(index, cell);
				return {
					shown: (value || '(required)').padEnd(width),
					edit: {text: value, original: value},
					auto: (cell === 'user' && node.ssh?.user === undefined) || (cell === 'hostname' && node.hostname === undefined),
					error: errors.some(e => e.field === `nodes[${index}].${FIELD_OF[cell]}` || (cell === 'host' && e.field === `nodes[${index}].ssh`)),
				};
			}}
		/>
	);
}
