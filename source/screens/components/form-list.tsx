import {Box, Text} from 'ink';
import {useStateRef} from '../../hooks/use-state-ref.js';
import {editValue} from './edit-keys.js';
import {useKeys} from './key-dispatcher.js';
import {moreAbove, moreBelow, windowAround} from './window.js';

export type FormField = {
	id: string;
	label: string;
	value: string;
	// text: enter edits; choice: left/right or enter cycles; action: enter runs it.
	kind: 'text' | 'choice' | 'action';
	error?: string;
	hint?: string;
};

type Props = {
	fields: FormField[];
	isActive: boolean;
	onChange: (id: string, value: string) => void;
	onCycle?: (id: string, direction: 1 | -1) => void;
	onAction: (id: string) => void;
	onBack: () => void;
	labelWidth?: number;
	// Rows the list may use; longer lists scroll with the cursor.
	maxRows?: number;
};

// A vertical list of fields: arrows or tab move, enter edits / cycles / runs,
// esc cancels an edit or goes back.
export function FormList({fields, isActive, onChange, onCycle, onAction, onBack, labelWidth = 18, maxRows = Number.POSITIVE_INFINITY}: Props) {
	const [focus, setFocus, focusRef] = useStateRef(0);
	const [editing, setEditing, editingRef] = useStateRef<{id: string; original: string; text: string} | undefined>(undefined);

	useKeys(
		(input, key) => {
			const edit = editingRef.current!;
			if (key.ctrl && input === 'c') return false;
			if (key.escape) {
				onChange(edit.id, edit.original);
				setEditing(undefined);
				return true;
			}
			const step = editValue(edit.text, input, key);
			if (step === undefined) return true;
			if (step.value !== edit.text) onChange(edit.id, step.value);
			setEditing(step.commit ? undefined : {...edit, text: step.value});
			return true;
		},
		{priority: 'text', active: () => isActive && editingRef.current !== undefined},
	);

	useKeys(
		(_input, key) => {
			const current = fields[Math.min(focusRef.current, fields.length - 1)];
			if (!current) return false;
			if (key.upArrow || (key.tab && key.shift)) setFocus(f => (f - 1 + fields.length) % fields.length);
			else if (key.downArrow || key.tab) setFocus(f => (f + 1) % fields.length);
			else if (key.escape) onBack();
			else if (current.kind === 'choice' && (key.leftArrow || key.rightArrow)) onCycle?.(current.id, key.leftArrow ? -1 : 1);
			else if (key.return) {
				if (current.kind === 'text') setEditing({id: current.id, original: current.value, text: current.value});
				else if (current.kind === 'choice') onCycle?.(current.id, 1);
				else onAction(current.id);
			} else return false;
			return true;
		},
		{priority: 'screen', active: isActive},
	);

	const {start, end} = windowAround(
		// An error line can wrap once on a narrow terminal.
		fields.map(field => (field.error ? 3 : 1)),
		focus,
		maxRows,
	);
	const above = moreAbove(start);
	const below = moreBelow(end, fields.length);
	return (
		<Box flexDirection="column">
			{above ? <Text dimColor>{above}</Text> : null}
			{fields.slice(start, end).map((field, offset) => {
				const index = start + offset;
				const focused = index === focus;
				const isEditing = editing?.id === field.id;
				if (field.kind === 'action') {
					return (
						<Text key={field.id} inverse={focused} color={focused ? 'cyan' : undefined}>
							{` ${field.label} `}
						</Text>
					);
				}
				return (
					<Box key={field.id} flexDirection="column">
						<Box>
							<Text color={focused ? 'cyan' : undefined}>{`${focused ? '›' : ' '} ${field.label.padEnd(labelWidth)}`}</Text>
							<Text inverse={focused && !isEditing} underline={isEditing}>
								{field.kind === 'choice' ? `‹ ${field.value} ›` : field.value || ' '}
							</Text>
							{isEditing ? <Text inverse> </Text> : null}
							{field.hint && focused ? <Text dimColor>{`  ${field.hint}`}</Text> : null}
						</Box>
						{field.error ? <Text color="red">{`    ✗ ${field.error}`}</Text> : null}
					</Box>
				);
			})}
			{below ? <Text dimColor>{below}</Text> : null}
		</Box>
	);
}
