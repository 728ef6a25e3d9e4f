import type {StepScreenProps} from './components/step-props.js';
import {Box, Text, useInput} from 'ink';
import {useState} from 'react';
import {useStateRef} from '../hooks/use-state-ref.js';
import type {Profile} from '../model/profile-schema.js';
import {type FieldError, formatProblem} from '../model/field-error.js';
import {resolveNodes} from '../model/resolve.js';
import {setNodeCell, type NodeCell} from '../model/draft-edits.js';
import {editValue} from './components/edit-keys.js';
import {focusedErrors, GridErrors} from './components/grid-errors.js';
import {useKeyScope} from './components/key-scope.js';
import {moreAbove, moreBelow, windowAround} from './components/window.js';

type Props = StepScreenProps;

const COLUMNS: Array<{cell: NodeCell; label: string; width: number}> = [
	{cell: 'ip', label: 'IP', width: 17},
	{cell: 'mac', label: 'MAC', width: 19},
	{cell: 'hostname', label: 'hostname', width: 16},
	{cell: 'sshPort', label: 'SSH port', width: 9},
];

const SCREEN_FIELDS = /^(network\.|nodes\[\d+\]\.(ip|mac|hostname|sshPort)$)/;

type Edit = {row: number; col: number; text: string; original: string; problem?: string};

// Row -1 is the subnet, rows 0..n-1 the nodes, row n the Next action.
export function NetworkScreen({profile, errors, isActive, onChange, onNext, onBack, bodyRows = 1000}: Props) {
	const [row, setRow, rowRef] = useStateRef(-1);
	const [col, setCol, colRef] = useStateRef(0);
	const [edit, setEditRaw, editRef] = useStateRef<Edit | undefined>(undefined);
	const [blocked, setBlocked] = useState(false);
	const scope = useKeyScope();
	// The app must know at once (not after a render) that keys are text now.
	const setEdit = (next: typeof editRef.current) => {
		setEditRaw(next);
		scope.setEditing(next !== undefined);
	};
	const nodes = resolveNodes(profile);
	const lastRow = nodes.length;

	const apply = (targetRow: number, targetCol: number, text: string): string | undefined => {
		if (targetRow === -1) {
			onChange({...profile, network: {...profile.network, subnet: text}});
			return undefined;
		}
		const next = setNodeCell(profile, targetRow, COLUMNS[targetCol]!.cell, text);
		if ('message' in next) return formatProblem(next);
		onChange(next);
		return undefined;
	};

	const startEdit = (row: number, col: number) => {
		const text = row === -1 ? profile.network.subnet : String(profile.nodes[row]![COLUMNS[col]!.cell] ?? nodes[row]![COLUMNS[col]!.cell]);
		setEdit({row, col, text, original: row === -1 ? profile.network.subnet : String(profile.nodes[row]![COLUMNS[col]!.cell] ?? '')});
	};

	useInput(
		(input, key) => {
			setBlocked(false);
			const edit = editRef.current;
			const row = rowRef.current;
			const col = colRef.current;
			if (edit) {
				if (key.escape) {
					apply(edit.row, edit.col, edit.original);
					return setEdit(undefined);
				}
				const step = editValue(edit.text, input, key);
				if (step === undefined) return;
				const problem = step.value === edit.text ? edit.problem : apply(edit.row, edit.col, step.value);
				setEdit(step.commit && !problem ? undefined : {...edit, text: step.value, problem});
				return;
			}
			if (key.escape) return onBack();
			if (key.upArrow) return setRow(r => Math.max(-1, r - 1));
			if (key.downArrow) return setRow(r => Math.min(lastRow, r + 1));
			if (key.leftArrow || (key.tab && key.shift)) return setCol(c => Math.max(0, c - 1));
			if (key.rightArrow || key.tab) {
				if (key.tab && col === COLUMNS.length - 1 && row < lastRow) {
					setCol(0);
					return setRow(r => r + 1);
				}
				return setCol(c => Math.min(COLUMNS.length - 1, c + 1));
			}
			if (key.ctrl && input === 'u' && row >= 0 && row < lastRow) return apply(row, col, '');
			if (key.return) {
				if (row === lastRow) {
					if (errors.some(e => SCREEN_FIELDS.test(e.field))) return setBlocked(true);
					return onNext();
				}
				startEdit(row, col);
			}
		},
		{isActive},
	);

	const {shown: shownErrors, hidden: hiddenErrors} = focusedErrors(errors.filter(e => SCREEN_FIELDS.test(e.field)), 'nodes', row);
	const cellError = (index: number, cell: NodeCell) => errors.some(e => e.field === `nodes[${index}].${cell}`);
	// Fixed lines (titles, subnet, header, Next, messages) and up to two rows per error.
	const nodeRows = Math.max(3, bodyRows - 11 - shownErrors.length * 2 - (hiddenErrors > 0 ? 1 : 0));
	const {start, end} = windowAround(
		nodes.map(() => 1),
		Math.min(Math.max(row, 0), nodes.length - 1),
		nodeRows,
	);
	const above = moreAbove(start, 'more nodes above');
	const below = moreBelow(end, nodes.length, 'more nodes below');

	return (
		<Box flexDirection="column">
			<Text bold>Network</Text>
			<Text dimColor>Auto-assigned values are dim; enter edits a cell, an empty value (ctrl-u) returns it to auto.</Text>
			<Box marginTop={1}>
				<Text color={row === -1 ? 'cyan' : undefined}>{`${row === -1 ? '›' : ' '} Subnet            `}</Text>
				<Text inverse={row === -1 && !edit} underline={edit?.row === -1}>
					{edit?.row === -1 ? edit.text : profile.network.subnet}
				</Text>
				{edit?.row === -1 ? <Text inverse> </Text> : null}
			</Box>
			<Box marginTop={1}>
				<Text bold>{`  ${'node'.padEnd(10)}${COLUMNS.map(c => c.label.padEnd(c.width)).join('')}`}</Text>
			</Box>
			{above ? <Text dimColor>{above}</Text> : null}
			{nodes.slice(start, end).map((node, offset) => {
				const index = start + offset;
				return (
					<Box key={node.name}>
						<Text color={row === index ? 'cyan' : undefined}>{`${row === index ? '›' : ' '} ${node.name.padEnd(10)}`}</Text>
						{COLUMNS.map((column, c) => {
							const focused = row === index && col === c;
							const editing = edit?.row === index && edit.col === c;
							const overridden = node.overridden[column.cell];
							const text = editing ? edit.text : String(node[column.cell]);
							return (
								<Text key={column.cell} inverse={focused && !editing} underline={editing} dimColor={!overridden && !focused && !editing} color={cellError(index, column.cell) ? 'red' : undefined}>
									{editing ? `${text}▏`.padEnd(column.width) : text.padEnd(column.width)}
								</Text>
							);
						})}
					</Box>
				);
			})}
			{below ? <Text dimColor>{below}</Text> : null}
			<Box marginTop={1}>
				<Text inverse={row === lastRow} color={row === lastRow ? 'cyan' : undefined}>
					{' Next: certificates → '}
				</Text>
			</Box>
			{edit?.problem ? <Text color="red">{`✗ ${edit.problem}`}</Text> : null}
			<GridErrors shown={shownErrors} hidden={hiddenErrors} blocked={blocked} />
		</Box>
	);
}
