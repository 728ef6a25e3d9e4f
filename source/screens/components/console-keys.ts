import type {Key} from 'ink';

// Ink hands keys over parsed; a serial console wants the bytes a terminal
// would have sent for them.
const SEQUENCES: Array<[keyof Key, string]> = [
	['return', '\r'],
	['upArrow', '\u001B[A'],
	['downArrow', '\u001B[B'],
	['rightArrow', '\u001B[C'],
	['leftArrow', '\u001B[D'],
	['pageUp', '\u001B[5~'],
	['pageDown', '\u001B[6~'],
	['home', '\u001B[H'],
	['end', '\u001B[F'],
	['tab', '\t'],
	// Terminals send DEL for the backspace key; Ink names that "delete".
	['backspace', '\u007F'],
	['delete', '\u007F'],
	['escape', '\u001B'],
];

export function keyToBytes(input: string, key: Key): string {
	for (const [name, bytes] of SEQUENCES) if (key[name]) return bytes;
	if (key.ctrl && /^[a-z]$/.test(input)) return String.fromCharCode(input.charCodeAt(0) - 96);
	return input;
}

// ctrl-] leaves typing mode, as in telnet and virsh console.
export function isTypingEscape(input: string, key: Key): boolean {
	return input === '\u001D' || (key.ctrl && input === ']');
}
