import type {StepScreenProps} from './components/step-props.js';
import {Box, Text, useInput} from 'ink';
import {useState} from 'react';
import {useStateRef} from '../hooks/use-state-ref.js';
import type {Profile} from '../model/profile-schema.js';
import {type FieldError, printable} from '../model/field-error.js';
import {checkName, checkPort} from '../model/check-name.js';
import {setCheckCell, type CheckCell} from '../model/draft-edits.js';
import {editValue} from './components/edit-keys.js';
import {focusedErrors, GridErrors} from './components/grid-errors.js';
import {useKeyScope} from './components/key-scope.js';
import {moreAbove, moreBelow, windowAround} from './components/window.js';

type Props = StepScreenProps;

const CELLS: Array<{cell: CheckCell; label: string; width: number}> = [
	{cell: 'port', label: 'port', width: 8},
	{cell: 'timeoutSec', label: 'timeout (s)', width: 12},
];
const NAME_WIDTH = 24;
const TYPE_WIDTH = 15;

const SCREEN_FIELDS = /^checks\[\d+\]/;

type Edit = {row: number; cell: CheckCell; text: string; original: string};
// Text typed into a cell that is not a number: kept on screen with its error
// (the profile keeps the last number) and Next is refused until it is fixed.
type Invalid = Record<string, {text: string; error: FieldError}>;

const cellKey = (row: number, cell: CheckCell) => `checks[${row}].${cell}`;

function fit(text: string, width: number): string {
	return text.length < width ? text.padEnd(width) : `${text.slice(0, width - 2)}… `;
}

// Rows 0..n-1 are the profile's checks, row n the Next action. Ports (for the
// types that have one) and timeouts are edited in place; the rest stays in the profile file.
export function CheckEditorScreen({profile, errors, isActive, onChange, onNext, onBack, bodyRows = 1000}: Props) {
	const [row, setRow, rowRef] = useStateRef(0);
	const [col, setCol, colRef] = useStateRef(0);
	const [edit, setEditRaw, editRef] = useStateRef<Edit | undefined>(undefined);
	const [invalid, setInvalid, invalidRef] = useStateRef<Invalid>({});
	const [blocked, setBlocked] = useState(false);
	const scope = useKeyScope();
	// The app must know at once (not after a render) that keys are text now.
	const setEdit = (next: Edit | undefined) => {
		setEditRaw(next);
		scope.setEditing(next !== undefined);
	};
	const checks = profile.checks;
	const lastRow = checks.length;
	// A check without a port has only its timeout to edit.
	const cellAt = (r: number, c: number): CheckCell => (c === 0 && checks[r] && checkPort(checks[r]!) !== undefined ? 'port' : 'timeoutSec');
	const valueOf = (r: number, cell: CheckCell) => String(cell === 'port' ? checkPort(checks[r]!) : checks[r]!.timeoutSec);

	const apply = (r: number, cell: CheckCell, text: string) => {
		const next = setCheckCell(profile, r, cell, text);
		const key = cellKey(r, cell);
		const {[key]: _, ...rest} = invalidRef.current;
		if ('field' in next) return setInvalid({...rest, [key]: {text, error: next}});
		setInvalid(rest);
		onChange(next);
	};

	useInput(
		(input, key) => {
			setBlocked(false);
			const edit = editRef.current;
			const r = rowRef.current;
			if (edit) {
				if (key.escape) {
					apply(edit.row, edit.cell, edit.original);
					return setEdit(undefined);
				}
				const step = editValue(edit.text, input, key);
				if (step === undefined) return;
				if (step.value !== edit.text) apply(edit.row, edit.cell, step.value);
				setEdit(step.commit ? undefined : {...edit, text: step.value});
				return;
			}
			if (key.escape) return onBack();
			if (key.upArrow) return setRow(Math.max(0, r - 1));
			if (key.downArrow) return setRow(Math.min(lastRow, r + 1));
			if (key.leftArrow || (key.tab && key.shift)) return setCol(0);
			if (key.rightArrow || key.tab) {
				if (key.tab && (colRef.current === 1 || cellAt(r, 0) === 'timeoutSec') && r < lastRow) {
					setCol(0);
					return setRow(r + 1);
				}
				return setCol(1);
			}
			if (key.return) {
				if (r === lastRow) {
					if (Object.keys(invalidRef.current).length > 0 || errors.some(e => SCREEN_FIELDS.test(e.field))) return setBlocked(true);
					return onNext();
				}
				const cell = cellAt(r, colRef.current);
				const original = valueOf(r, cell);
				setEdit({row: r, cell, text: invalidRef.current[cellKey(r, cell)]?.text ?? original, original});
			}
		},
		{isActive},
	);

	const typedErrors = Object.values(invalid).map(i => i.error);
	// A cell's typed text supersedes what validation says of the number it replaced.
	const {shown: shownErrors, hidden: hiddenErrors} = focusedErrors([...typedErrors, ...errors.filter(e => SCREEN_FIELDS.test(e.field) && !invalid[e.field])], 'checks', row);
	const hasError = (r: number, cell: CheckCell) => invalid[cellKey(r, cell)] !== undefined || errors.some(e => e.field === cellKey(r, cell));
	// Fixed lines (titles, header, Next, messages) and up to two rows per error.
	const tableRows = Math.max(3, bodyRows - 9 - shownErrors.length * 2 - (hiddenErrors > 0 ? 1 : 0));
	const {start, end} = windowAround(
		checks.map(() => 1),
		Math.min(row, checks.length - 1),
		tableRows,
	);
	const above = moreAbove(start, 'more checks above');
	const below = moreBelow(end, checks.length, 'more checks below');
	const focusedCell = row < lastRow ? cellAt(row, col) : undefined;

	return (
		<Box flexDirection="column">
			<Text bold>Checks</Text>
			<Text dimColor>What the validate stage proves after install; enter edits a port or a timeout, other parameters are in the profile file.</Text>
			{checks.length === 0 ? (
				<Box marginTop={1}>
					<Text>This profile has no checks: the run ends after install without validating.</Text>
				</Box>
			) : (
				<Box marginTop={1}>
					<Text bold>{`  ${'check'.padEnd(NAME_WIDTH)}${'type'.padEnd(TYPE_WIDTH)}${CELLS.map(c => c.label.padEnd(c.width)).join('')}`}</Text>
				</Box>
			)}
			{above ? <Text dimColor>{above}</Text> : null}
			{checks.slice(start, end).map((check, offset) => {
				const index = start + offset;
				return (
					<Box key={index}>
						<Text color={row === index ? 'cyan' : undefined}>{`${row === index ? '›' : ' '} ${fit(printable(checkName(check)), NAME_WIDTH)}`}</Text>
						<Text dimColor>{check.type.padEnd(TYPE_WIDTH)}</Text>
						{CELLS.map(column => {
							if (column.cell === 'port' && checkPort(check) === undefined) {
								return (
									<Text key={column.cell} dimColor>
										{'-'.padEnd(column.width)}
									</Text>
								);
							}
							const focused = row === index && focusedCell === column.cell;
							const editing = edit?.row === index && edit.cell === column.cell;
							const text = editing ? edit.text : (invalid[cellKey(index, column.cell)]?.text ?? valueOf(index, column.cell));
							return (
								<Text key={column.cell} inverse={focused && !editing} underline={editing} color={hasError(index, column.cell) ? 'red' : undefined}>
									{editing ? `${text}▏`.padEnd(column.width) : fit(printable(text), column.width)}
								</Text>
							);
						})}
					</Box>
				);
			})}
			{below ? <Text dimColor>{below}</Text> : null}
			<Box marginTop={1}>
				<Text inverse={row === lastRow} color={row === lastRow ? 'cyan' : undefined}>
					{' Next: plan → '}
				</Text>
			</Box>
			<GridErrors shown={shownErrors} hidden={hiddenErrors} blocked={blocked} />
		</Box>
	);
}
