// Text a guest controls (console and install output, remote stderr, HTTP
// bodies, QEMU's log) is shown on the operator's terminal and written to the
// report: terminal control sequences in it are not text. A title change
// (OSC), a screen clear (CSI), a bell or a forged line break are dropped;
// the visible characters stay.

// OSC, DCS, SOS, PM and APC strings run to BEL or ST (ESC \ or 8-bit ST): all of it goes.
const STRING_SEQUENCE = /(?:\u001B[\]PX^_]|[\u0090\u0098\u009D\u009E\u009F])[^\u0007\u001B\u009C]*(?:\u0007|\u001B\\|\u009C)/g;
// CSI (7-bit ESC [ or 8-bit U+009B) with its parameters and final byte.
const CSI = /(?:\u001B\[|\u009B)[0-?]*[ -/]*[@-~]/g;
// Any other escape: ESC, intermediates, one final byte (an unterminated string's opener too).
const ESCAPE = /\u001B[ -/]*[0-~]?/g;
// C0 but tab and line feed, DEL, and C1.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

export function printableLine(line: string): string {
	return line.replace(STRING_SEQUENCE, '').replace(CSI, '').replace(ESCAPE, '').replace(CONTROL, '').replace(/\n/g, ' ');
}
