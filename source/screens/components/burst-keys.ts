import type {Key} from 'ink';

// Ink splits escape sequences but hands plain text over in one event: keys
// sent in a burst (tmux send-keys, a fast typist, a paste) arrive as "\tz".
// Navigation wants them one at a time, as if pressed separately.
export function splitKeys(input: string, key: Key): Array<[string, Key]> {
	const special = key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.pageUp || key.pageDown || key.home || key.end || key.escape || key.ctrl || key.meta;
	if (input.length <= 1 || special) return [[input, key]];
	const plain: Key = {...key, return: false, tab: false, backspace: false, delete: false, shift: false};
	return [...input].map((char): [string, Key] => {
		if (char === '\t') return ['', {...plain, tab: true}];
		if (char === '\r' || char === '\n') return ['', {...plain, return: true}];
		if (char === '\u007F') return ['', {...plain, delete: true}];
		if (char === '\b') return ['', {...plain, backspace: true}];
		if (char < ' ' && char >= '\u0001' && char <= '\u001A') return [String.fromCharCode(char.charCodeAt(0) + 96), {...plain, ctrl: true}];
		return [char, {...plain, shift: /[A-Z]/.test(char)}];
	});
}
