import type {Key} from 'ink';

export type EditStep = {value: string; commit: boolean} | undefined;

// No field of a profile needs more (paths stop at 4095 bytes in validation, but nobody types those);
// without a cap, a pasted megabyte would be laid out by Ink on every frame.
export const MAX_FIELD_CHARS = 1024;

// How a text value changes under one input event while a field is being edited.
// Returns undefined for keys that do not edit (the caller handles them).
// A burst of keys (a paste, tmux send-keys) can arrive as one event, so the
// text is walked character by character: DEL/BS delete, ctrl-u clears, a
// carriage return commits, other control characters never reach a value.
export function editValue(value: string, input: string, key: Key): EditStep {
	if (key.backspace || key.delete) return {value: value.slice(0, -1), commit: false};
	if (key.ctrl && input === 'u') return {value: '', commit: false};
	if (key.return) return {value, commit: true};
	if (key.ctrl || key.meta || key.escape || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return undefined;
	if (input.length === 0) return undefined;
	let next = value;
	for (const char of input) {
		if (char === '\r' || char === '\n') return {value: next, commit: true};
		if (char === '\u007f' || char === '\b') next = next.slice(0, -1);
		else if (char === '\u0015') next = '';
		else if (char >= ' ' && next.length < MAX_FIELD_CHARS) next += char;
	}
	return {value: next, commit: false};
}
