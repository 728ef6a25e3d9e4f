import type {StepScreenProps} from './components/step-props.js';
import {Box, Text} from 'ink';
import {useStateRef} from '../hooks/use-state-ref.js';
import {type FieldError, printable} from '../model/field-error.js';
import {checkName, checkPort} from '../model/check-name.js';
import {setCheckCell, type CheckCell} from '../model/draft-edits.js';
import {EditableGrid, type GridRow} from './components/editable-grid.js';

type Props = StepScreenProps;

const CELLS: Array<{cell: CheckCell; label: string; width: number}> = [
	{cell: 'port', label: 'port', width: 8},
	{cell: 'timeoutSec', label: 'timeout (s)', width: 12},
];
const NAME_WIDTH = 24;
const TYPE_WIDTH = 15;

const SCREEN_FIELDS = /^checks\[\d+\]/;

// Text typed into a cell that is not a number: kept on screen with its error
// (the profile keeps the last number) and Next is refused until it is fixed.
type Invalid = Record<string, {text: string; error: FieldError}>;

const cellKey = (row: number, cell: CheckCell) => `checks[${row}].${cell}`;

function fit(text: string, width: number): string {
	return text.length < width ? text.padEnd(width) : `${text.slice(0, width - 2)}… `;
}

// One row per check of the profile, then Next. Ports (for the types that have
// one) and timeouts are edited in place; the rest stays in the profile file.
export function CheckEditorScreen({profile, errors, isActive, onChange, onNext, onBack, bodyRows = 1000}: Props) {
	const [invalid, setInvalid, invalidRef] = useStateRef<Invalid>({});
	const checks = profile.checks;
	const valueOf = (r: number, cell: CheckCell) => String(cell === 'port' ? checkPort(checks[r]!) : checks[r]!.timeoutSec);
	const hasError = (r: number, cell: CheckCell) => invalid[cellKey(r, cell)] !== undefined || errors.some(e => e.field === cellKey(r, cell));

	const rows: GridRow[] = checks.map((check, index) => ({
		key: String(index),
		index,
		lead: fit(printable(checkName(check)), NAME_WIDTH),
		dimLead: check.type.padEnd(TYPE_WIDTH),
		cells: CELLS.map(({cell, width}) => {
			// A check without a port has only its timeout to edit.
			if (cell === 'port' && checkPort(check) === undefined) return {shown: '-'.padEnd(width)};
			const original = valueOf(index, cell);
			const text = invalid[cellKey(index, cell)]?.text ?? original;
			return {shown: fit(printable(text), width), edit: {text, original}, error: hasError(index, cell)};
		}),
	}));

	const apply = (row: GridRow, column: number, text: string): undefined => {
		const cell = CELLS[column]!.cell;
		const next = setCheckCell(profile, row.index, cell, text);
		const key = cellKey(row.index, cell);
		const {[key]: _, ...rest} = invalidRef.current;
		if ('field' in next) setInvalid({...rest, [key]: {text, error: next}});
		else {
			setInvalid(rest);
			onChange(next);
		}
		return undefined;
	};

	const typedErrors = Object.values(invalid).map(i => i.error);
	return (
		<Box flexDirection="column">
			<Text bold>Checks</Text>
			<Text dimColor>What the validate stage proves after install; enter edits a port or a timeout, other parameters are in the profile file.</Text>
			<EditableGrid
				rows={rows}
				columns={CELLS}
				leadHeader={`${'check'.padEnd(NAME_WIDTH)}${'type'.padEnd(TYPE_WIDTH)}`}
				empty="This profile has no checks: the run ends after install without validating."
				list="checks"
				nextLabel="Next: plan →"
				// A cell's typed text supersedes what validation says of the number it replaced.
				errors={[...typedErrors, ...errors.filter(e => SCREEN_FIELDS.test(e.field) && !invalid[e.field])]}
				isActive={isActive}
				bodyRows={bodyRows}
				onEdit={apply}
				onNext={onNext}
				onBack={onBack}
			/>
		</Box>
	);
}
