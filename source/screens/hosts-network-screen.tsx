import type {StepScreenProps} from './components/step-props.js';
import {Box, Text} from 'ink';
import {formatProblem} from '../model/field-error.js';
import {setHostCell, type HostCell} from '../model/ssh-hosts-edits.js';
import {EditableGrid, type GridRow} from './components/editable-grid.js';

// The network step when the target is existing machines: nothing is assigned,
// each machine's SSH address, port and user and its cluster IP are asked for.

const COLUMNS: Array<{cell: HostCell; label: string; width: number}> = [
	{cell: 'host', label: 'SSH host', width: 18},
	{cell: 'port', label: 'port', width: 6},
	{cell: 'user', label: 'user', width: 9},
	{cell: 'ip', label: 'cluster IP', width: 17},
	{cell: 'hostname', label: 'hostname', width: 14},
];

const FIELD_OF: Record<HostCell, string> = {host: 'ssh.host', port: 'ssh.port', user: 'ssh.user', ip: 'ip', hostname: 'hostname'};
const SCREEN_FIELDS = /^(network\.|nodes\[\d+\]\.(ip|hostname|ssh(\..*)?)$)/;

export function HostsNetworkScreen({profile, errors, isActive, onChange, onNext, onBack, bodyRows = 1000}: StepScreenProps) {
	const subnet: GridRow = {key: 'subnet', index: -1, lead: 'Subnet            ', cells: [{shown: profile.network.subnet, edit: {text: profile.network.subnet, original: profile.network.subnet}}]};
	const valueOf = (index: number, cell: HostCell): string => {
		const node = profile.nodes[index]!;
		if (cell === 'ip') return node.ip ?? '';
		if (cell === 'hostname') return node.hostname ?? node.name;
		if (cell === 'user') return node.ssh?.user ?? profile.ssh.user;
		if (cell === 'port') return String(node.ssh?.port ?? 22);
		return node.ssh?.host ?? '';
	};
	const rows: GridRow[] = profile.nodes.map((node, index) => ({
		key: node.name,
		index,
		lead: node.name.padEnd(10),
		cells: COLUMNS.map(({cell, width}) => ({
			shown: (valueOf(index, cell) || '(required)').padEnd(width),
			edit: {text: valueOf(index, cell), original: valueOf(index, cell)},
			auto: (cell === 'user' && node.ssh?.user === undefined) || (cell === 'hostname' && node.hostname === undefined),
			error: errors.some(e => e.field === `nodes[${index}].${FIELD_OF[cell]}` || (cell === 'host' && e.field === `nodes[${index}].ssh`)),
		})),
	}));

	const apply = (row: GridRow, cell: number, text: string): string | undefined => {
		if (row.index === -1) {
			onChange({...profile, network: {...profile.network, subnet: text}});
			return undefined;
		}
		const next = setHostCell(profile, row.index, COLUMNS[cell]!.cell, text);
		if ('message' in next) return formatProblem(next);
		onChange(next);
		return undefined;
	};

	return (
		<Box flexDirection="column">
			<Text bold>Network: existing machines</Text>
			<Text dimColor>Each machine's SSH address and its IP on the cluster network; nothing is auto-assigned. Enter edits a cell.</Text>
			<EditableGrid
				pinned={[subnet]}
				rows={rows}
				columns={COLUMNS}
				leadHeader={'node'.padEnd(10)}
				list="nodes"
				nextLabel="Next: certificates →"
				errors={errors.filter(e => SCREEN_FIELDS.test(e.field))}
				isActive={isActive}
				bodyRows={bodyRows}
				onEdit={apply}
				onClear={(row, cell) => void (row.index >= 0 && apply(row, cell, ''))}
				onNext={onNext}
				onBack={onBack}
			/>
		</Box>
	);
}
