import {Box, Text} from 'ink';
import {formatProblem, type Problem} from '../../model/field-error.js';
import type {Profile} from '../../model/profile-schema.js';
import {EditableGrid, type GridCell, type GridRow} from './editable-grid.js';
import type {StepScreenProps} from './step-props.js';

// The network step's table, whatever the target: the subnet above it, one row
// per node whose cells the target's columns describe, then Next.

export type NodeColumn<Cell extends string> = {cell: Cell; label: string; width: number};

type Props<Cell extends string> = StepScreenProps & {
	title: string;
	hint: string;
	columns: Array<NodeColumn<Cell>>;
	// One node's cell, shown padded to its column.
	cellOf: (index: number, column: NodeColumn<Cell>) => GridCell;
	// Sets a cell of nodes[index] from what was typed, or says why it cannot.
	setCell: (profile: Profile, index: number, cell: Cell, text: string) => Profile | Problem;
	// The errors this table shows (and that keep Next refused).
	fields: RegExp;
};

export function NodeGridStep<Cell extends string>({profile, errors, isActive, onChange, onNext, onBack, bodyRows = 1000, title, hint, columns, cellOf, setCell, fields}: Props<Cell>) {
	const subnet: GridRow = {key: 'subnet', index: -1, lead: 'Subnet            ', cells: [{shown: profile.network.subnet, edit: {text: profile.network.subnet, original: profile.network.subnet}}]};
	const rows: GridRow[] = profile.nodes.map((node, index) => ({key: node.name, index, lead: node.name.padEnd(10), cells: columns.map(column => cellOf(index, column))}));

	const apply = (row: GridRow, cell: number, text: string): string | undefined => {
		if (row.index === -1) {
			onChange({...profile, network: {...profile.network, subnet: text}});
			return undefined;
		}
		const next = setCell(profile, row.index, columns[cell]!.cell, text);
		if ('message' in next) return formatProblem(next);
		onChange(next);
		return undefined;
	};

	return (
		<Box flexDirection="column">
			<Text bold>{title}</Text>
			<Text dimColor>{hint}</Text>
			<EditableGrid
				pinned={[subnet]}
				rows={rows}
				columns={columns}
				leadHeader={'node'.padEnd(10)}
				list="nodes"
				nextLabel="Next: certificates →"
				errors={errors.filter(e => fields.test(e.field))}
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
