import {Text} from 'ink';
import {type FieldError, formatProblem} from '../../model/field-error.js';

const SHOWN = 3;

// The errors of an editable table: the focused row's first (the one being fixed is always
// shown), at most three, and how many more there are. `list` names the table, e.g. "nodes".
export function focusedErrors(errors: FieldError[], list: string, row: number): {shown: FieldError[]; hidden: number} {
	const rowOf = (field: string) => Number(new RegExp(`^${list}\\[(\\d+)\\]`).exec(field)?.[1] ?? -1);
	const sorted = [...errors].sort((a, b) => Number(rowOf(b.field) === row) - Number(rowOf(a.field) === row));
	return {shown: sorted.slice(0, SHOWN), hidden: Math.max(0, sorted.length - SHOWN)};
}

export function GridErrors({shown, hidden, blocked}: {shown: FieldError[]; hidden: number; blocked: boolean}) {
	return (
		<>
			{shown.map(error => (
				<Text key={`${error.field}:${error.message}`} color="red">{`✗ ${formatProblem(error)}`}</Text>
			))}
			{hidden > 0 ? <Text color="red">{`✗ and ${hidden} more (move to a row to see its problems first)`}</Text> : null}
			{blocked ? <Text color="red">Fix the errors marked ✗ before going on.</Text> : null}
		</>
	);
}
