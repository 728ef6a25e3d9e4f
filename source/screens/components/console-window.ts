import type {RingBuffer} from '../../model/ring-buffer.js';

// Which lines a console pane shows: the newest ones while following, or a
// fixed window that stays put while new lines arrive once scrolled up.
// `end` is the number (counted over everything ever received) one past the last line shown.
export function consoleWindow(buffer: RingBuffer<string>, rows: number, end: number | undefined): {lines: string[]; end: number; following: boolean} {
	const total = buffer.total;
	const oldest = buffer.dropped;
	const last = end === undefined ? total : Math.min(total, Math.max(oldest + rows, end));
	const first = Math.max(oldest, last - rows);
	return {lines: buffer.slice(first - oldest, last - oldest), end: last, following: end === undefined || last >= total};
}
