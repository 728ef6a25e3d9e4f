import {Box, Text} from 'ink';
import {useState} from 'react';
import {useStateRef} from '../../hooks/use-state-ref.js';
import type {FieldError} from '../../model/field-error.js';
import {editValue} from './edit-keys.js';
import {focusedErrors, GridErrors} from './grid-errors.js';
import {useKeys} from './key-dispatcher.js';
import {moreAbove, moreBelow, windowAround} from './window.js';

export type GridColumn = {label: string; width: number};

export type GridCell = {
	// What the cell shows when it is not being edited, already padded to its column.
	shown: string;
	// Absent for a cell that has nothing to edit (shown dim).
	edit?: {
		// The text an edit starts from, and the value esc puts back.
		text: string;
		original: string;
	};
	// Auto-assigned: shown dim unless focused.
	auto?: boolean;
	error?: boolean;
};

export type GridRow = {
	key: string;
	// The row's position in its profile list (nodes[i], checks[i]), for its errors.
	index: number;
	// The fixed text before the cells (name, type), already padded.
	lead: string;
	dimLead?: string;
	cells: GridCell[];
};

type Props = {
	// Rows above the table header that are never scrolled (the subnet).
	pinned?: GridRow[];
	rows: GridRow[];
	columns: GridColumn[];
	// The header of the lead text, already padded.
	leadHeader: string;
	// Shown instead of the header when there are no rows.
	empty?: string;
	// The profile list the rows come from: "nodes", "checks".
	list: string;
	nextLabel: string;
	// This table's errors; Next is refused while there are any.
	errors: FieldError[];
	isActive: boolean;
	bodyRows: number;
	// Sets a cell from the text being typed; returns why it cannot, which keeps the edit open.
	onEdit: (row: GridRow, cell: number, text: string) => string | undefined;
	// ctrl-u outside an edit: return the cell to its auto value.
	onClear?: (row: GridRow, cell: number) => void;
	onNext: () => void;
	onBack: () => void;
};

type Edit = {row: number; cell: number; text: string; original: string; problem?: string};

// The editable cell the cursor column lands on: the column itself, else the next
// editable one to its right, else the last one to its left.
function cellAt(row: GridRow | undefined, col: number): number {
	if (!row) return col;
	const editable = row.cells.flatMap((cell, index) => (cell.edit ? [index] : []));
	return editable.find(index => index >= col) ?? editable.filter(index => index < col).at(-1) ?? col;
}

// A table of profile values edited in place: arrows and tab move, enter edits
// a cell and enter again keeps it, esc cancels, ctrl-u returns a cell to auto.
// Its last row is the Next action.
export function EditableGrid({pinned = [], rows, columns, leadHeader, empty, list, nextLabel, errors, isActive, bodyRows, onEdit, onClear, onNext, onBack}: Props) {
	const all = [...pinned, ...rows];
	const lastRow = all.length;
	const [row, setRow, rowRef] = useStateRef(0);
	const [col, setCol, colRef] = useStateRef(0);
	const [edit, setEdit, editRef] = useStateRef<Edit | undefined>(undefined);
	const [blocked, setBlocked] = useState(false);

	useKeys(
		(input, key) => {
			const current = editRef.current!;
			if (key.ctrl && input === 'c') return false;
			const target = all[current.row]!;
			if (key.escape) {
				onEdit(target, current.cell, current.original);
				setEdit(undefined);
				return true;
			}
			const step = editValue(current.text, input, key);
			if (step === undefined) return true;
			const problem = step.value === current.text ? current.problem : onEdit(target, current.cell, step.value);
			setEdit(step.commit && !problem ? undefined : {...current, text: step.value, problem});
			return true;
		},
		{priority: 'text', active: () => isActive && editRef.current !== undefined},
	);

	useKeys(
		(input, key) => {
			setBlocked(false);
			const r = rowRef.current;
			const c = colRef.current;
			const cell = cellAt(all[r], c);
			if (key.escape) onBack();
			else if (key.upArrow) setRow(Math.max(0, r - 1));
			else if (key.downArrow) setRow(Math.min(lastRow, r + 1));
			else if (key.leftArrow || (key.tab && key.shift)) setCol(Math.max(0, c - 1));
			else if (key.rightArrow || key.tab) {
				const lastCell = all[r] ? cellAt(all[r], columns.length - 1) : columns.length - 1;
				if (key.tab && cell >= lastCell && r < lastRow) {
					setCol(0);
					setRow(r + 1);
				} else setCol(Math.min(columns.length - 1, c + 1));
			} else if (key.ctrl && input === 'u' && onClear && r < lastRow) onClear(all[r]!, cell);
			else if (key.return) {
				if (r === lastRow) {
					if (errors.length > 0) setBlocked(true);
					else onNext();
				} else {
					const target = all[r]!.cells[cell]?.edit;
					if (target) setEdit({row: r, cell, ...target});
				}
			} else return false;
			return true;
		},
		{priority: 'screen', active: isActive},
	);

	const focusedIndex = all[row]?.index ?? -1;
	const {shown: shownErrors, hidden: hiddenErrors} = focusedErrors(errors, list, focusedIndex);
	// Fixed lines (titles, pinned rows, header, Next, messages) and up to two rows per error.
	const tableRows = Math.max(3, bodyRows - 9 - pinned.length * 2 - shownErrors.length * 2 - (hiddenErrors > 0 ? 1 : 0));
	const {start, end} = windowAround(
		rows.map(() => 1),
		Math.min(Math.max(row - pinned.length, 0), rows.length - 1),
		tableRows,
	);
	const above = moreAbove(start, `more ${list} above`);
	const below = moreBelow(end, rows.length, `more ${list} below`);

	const renderCell = (position: number, cell: GridCell, c: number, width?: number) => {
		if (!cell.edit) {
			return (
				<Text key={c} dimColor>
					{cell.shown}
				</Text>
			);
		}
		const focused = row === position && cellAt(all[position], col) === c;
		const editing = edit?.row === position && edit.cell === c;
		const color = cell.error ? 'red' : undefined;
		// A pinned value has no column: it is as wide as it is, with a block cursor.
		if (width === undefined) {
			return (
				<Text key={c}>
					<Text inverse={focused && !editing} underline={editing} color={color}>
						{editing ? edit.text : cell.shown}
					</Text>
					{editing ? <Text inverse> </Text> : null}
				</Text>
			);
		}
		return (
			<Text key={c} inverse={focused && !editing} underline={editing} dimColor={cell.auto && !focused && !editing} color={color}>
				{editing ? `${edit.text}▏`.padEnd(width) : cell.shown}
			</Text>
		);
	};
	const renderRow = (gridRow: GridRow, position: number, pinnedRow: boolean) => (
		<Box key={gridRow.key} marginTop={pinnedRow ? 1 : 0}>
			<Text color={row === position ? 'cyan' : undefined}>{`${row === position ? '›' : ' '} ${gridRow.lead}`}</Text>
			{gridRow.dimLead ? <Text dimColor>{gridRow.dimLead}</Text> : null}
			{gridRow.cells.map((cell, c) => renderCell(position, cell, c, pinnedRow ? undefined : columns[c]!.width))}
		</Box>
	);

	return (
		<>
			{pinned.map((gridRow, position) => renderRow(gridRow, position, true))}
			<Box marginTop={1}>{rows.length === 0 && empty ? <Text>{empty}</Text> : <Text bold>{`  ${leadHeader}${columns.map(c => c.label.padEnd(c.width)).join('')}`}</Text>}</Box>
			{above ? <Text dimColor>{above}</Text> : null}
			{rows.slice(start, end).map((gridRow, offset) => renderRow(gridRow, pinned.length + start + offset, false))}
			{below ? <Text dimColor>{below}</Text> : null}
			<Box marginTop={1}>
				<Text inverse={row === lastRow} color={row === lastRow ? 'cyan' : undefined}>
					{` ${nextLabel} `}
				</Text>
			</Box>
			{edit?.problem ? <Text color="red">{`✗ ${edit.problem}`}</Text> : null}
			<GridErrors shown={shownErrors} hidden={hiddenErrors} blocked={blocked} />
		</>
	);
}
