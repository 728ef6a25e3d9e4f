import type {StepScreenProps} from './components/step-props.js';
import {Box, Text} from 'ink';
import {formatProblem} from '../model/field-error.js';
import {resolveNodes} from '../model/resolve.js';
import {setNodeCell, type NodeCell} from '../model/draft-edits.js';
import {EditableGrid, type GridRow} from './components/editable-grid.js';
import {HostsNetworkScreen} from './hosts-network-screen.js';

type Props = StepScreenProps;

const COLUMNS: Array<{cell: NodeCell; label: string; width: number}> = [
	{cell: 'ip', label: 'IP', width: 17},
	{cell: 'mac', label: 'MAC', width: 19},
	{cell: 'hostname', label: 'hostname', width: 16},
	{cell: 'sshPort', label: 'SSH port', width: 9},
];

const SCREEN_FIELDS = /^(network\.|nodes\[\d+\]\.(ip|mac|hostname|sshPort)$)/;

// The subnet above the table (index -1), one row per node, then Next.
export function NetworkScreen(props: Props) {
	return props.profile.target.kind === 'ssh-hosts' ? <HostsNetworkScreen {...props} /> : <VmNetworkScreen {...props} />;
}

function VmNetworkScreen({profile, errors, isActive, onChange, onNext, onBack, bodyRows = 1000}: Props) {
	const nodes = resolveNodes(profile);
	const subnet: GridRow = {key: 'subnet', index: -1, lead: 'Subnet            ', cells: [{shown: profile.network.subnet, edit: {text: profile.network.subnet, original: profile.network.subnet}}]};
	const rows: GridRow[] = nodes.map((node, index) => ({
		key: node.name,
		index,
		lead: node.name.padEnd(10),
		cells: COLUMNS.map(({cell, width}) => ({
			shown: String(node[cell]).padEnd(width),
			edit: {text: String(profile.nodes[index]![cell] ?? node[cell]), original: String(profile.nodes[index]![cell] ?? '')},
			auto: !node.overridden[cell],
			error: errors.some(e => e.field === `nodes[${index}].${cell}`),
		})),
	}));

	const apply = (row: GridRow, cell: number, text: string): string | undefined => {
		if (row.index === -1) {
			onChange({...profile, network: {...profile.network, subnet: text}});
			return undefined;
		}
		const next = setNodeCell(profile, row.index, COLUMNS[cell]!.cell, text);
		if ('message' in next) return formatProblem(next);
		onChange(next);
		return undefined;
	};

	return (
		<Box flexDirection="column">
			<Text bold>Network</Text>
			<Text dimColor>Auto-assigned values are dim; enter edits a cell, an empty value (ctrl-u) returns it to auto.</Text>
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
