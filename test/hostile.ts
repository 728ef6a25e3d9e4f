// A small seeded generator of hostile text for property tests: the same seed
// gives the same cases, and a failure names the seed and the case.

export type Rng = () => number;

// mulberry32: tiny, fast, good enough to pick cases.
export function seededRng(seed: number): Rng {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
	return items[Math.floor(rng() * items.length)]!;
}

// The seed: fixed by default so CI is repeatable, PLASMA_FUZZ_SEED to explore.
export const SEED = Number(process.env['PLASMA_FUZZ_SEED'] ?? 20261125);

export const CANARY_MARK = '@CANARY@';

// Pieces that mean something to a shell, QEMU's option parser, a terminal or a
// parser of names and numbers. CANARY_MARK is replaced by a file that must never be created.
export const ATOMS: readonly string[] = [
	'$(touch @CANARY@)',
	'`touch @CANARY@`',
	"'; touch @CANARY@; '",
	'"; touch @CANARY@; "',
	'${IFS}touch${IFS}@CANARY@',
	'\ntouch @CANARY@\n',
	'&& touch @CANARY@ ||',
	'| tee @CANARY@',
	'> @CANARY@',
	';', '|', '&', '$', '(', ')', '`', "'", '"', '\\', '<', '>', '*', '?', '[', ']', '{', '}', '~', '#', '!', '=', '%',
	',', ',,', ',id=evil', ',path=/tmp/evil', ':', '/', '..', '../..', '-', '--', '-o', ' ', '  ',
	'{name}', '{ip}', '{node}', '%s', '%n',
	'\n', '\r', '\t', '\u0000', '\u0007', '\u001b[2J', '\u001b]0;pwned\u0007', '\u007f', '\u0085', '\u009b31m', '\ufeff',
	'\u202e', '\u200f', '\u2066', '\u2028', 'مرحبا', 'שלום', 'é', 'ß', 'İ', '日本語', '🦀', '👩‍👩‍👧', '\u0301', 'Ａ', '١٢٣',
	'0', '00', '-1', '1e3', '0x1f', 'NaN', 'null', 'undefined', '__proto__', 'constructor',
	'192.168.100.11', '192.168.100.300', '192.168.100.0', '192.168.100.255', '10.0.0.0/8', '/24', '52:54:00:00:01:01', '53:54:00:00:01:01', 'ff:ff:ff:ff:ff:ff',
	'node01', 'NODE01', 'a', 'x'.repeat(64), 'x'.repeat(254),
];

// 100k characters: past every length limit (PATH_MAX, NAME_MAX, DNS, MAX_ARG_STRLEN is 128k).
export const LONG = 'A'.repeat(100_000);

export function hostileString(rng: Rng, canary = '/nonexistent/canary'): string {
	if (rng() < 0.04) return rng() < 0.5 ? LONG : `${LONG}$(touch ${canary})`;
	const count = 1 + Math.floor(rng() * 6);
	let text = '';
	for (let i = 0; i < count; i++) text += pick(rng, ATOMS);
	return text.replaceAll(CANARY_MARK, canary);
}

export function hostileNumber(rng: Rng): unknown {
	return pick(rng, [-1, 0, 1, 22, 1023, 1024, 65535, 65536, 2 ** 31, 2 ** 53, 1e20, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '22', '', null, true, [], {}, '2201; reboot']);
}

// Terminal-affecting characters that must never appear raw in a message.
export const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
