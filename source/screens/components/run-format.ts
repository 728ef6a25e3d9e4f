import type {NodePhase} from '../../model/events.js';
import type {CheckStatus} from '../../model/run-view.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function spinner(now: number): string {
	return SPINNER[Math.floor(now / 100) % SPINNER.length]!;
}

export function elapsed(ms: number): string {
	const seconds = Math.max(0, Math.floor(ms / 1000));
	if (seconds < 60) return `${seconds}s`;
	const minutes = Math.floor(seconds / 60);
	return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
}

// Phases where the node is still on its way (the spinner turns).
export function isBusy(phase: NodePhase): boolean {
	return phase !== 'pending' && phase !== 'healthy' && phase !== 'failed' && phase !== 'installed' && phase !== 'ssh-ready';
}

export function phaseColor(phase: NodePhase): string {
	switch (phase) {
		case 'failed':
			return 'red';
		case 'healthy':
			return 'green';
		case 'pending':
			return 'gray';
		case 'booting':
		case 'console':
			return 'yellow';
		default:
			return 'cyan';
	}
}

export function checkMark(status: CheckStatus | undefined, now: number): {text: string; color?: string} {
	if (status === 'ok') return {text: '✓ ok', color: 'green'};
	if (status === 'failed') return {text: '✗ failed', color: 'red'};
	if (status === 'not-run') return {text: '– not run', color: 'magenta'};
	if (status === 'waiting') return {text: `${spinner(now)} waiting`, color: 'yellow'};
	return {text: '·', color: 'gray'};
}

// Columns of panes that fit the width, each at least `minWidth` wide.
export function paneGrid(count: number, width: number, minWidth = 40): {columns: number; rows: number; paneWidth: number} {
	const columns = Math.max(1, Math.min(count, Math.floor(width / minWidth)));
	return {columns, rows: Math.ceil(count / columns), paneWidth: Math.floor(width / columns)};
}

// Tabs and stray control bytes would break Ink's width arithmetic.
export function cleanLine(line: string): string {
	return line.replace(/\t/g, '    ').replace(/[\u0000-\u001F\u007F]/g, '');
}

// Wraps a line into rows of at most `width` characters, breaking at spaces where
// it can; at most `maxRows`, the last ending in … when the text goes on.
export function wrapRows(text: string, width: number, maxRows: number): string[] {
	if (maxRows <= 0 || width <= 1) return [];
	const rows: string[] = [];
	let rest = text;
	while (rest.length > 0 && rows.length < maxRows) {
		if (rest.length <= width) {
			rows.push(rest);
			rest = '';
			break;
		}
		const space = rest.lastIndexOf(' ', width);
		const cut = space > width / 2 ? space : width;
		rows.push(rest.slice(0, cut));
		rest = rest.slice(cut).replace(/^ /, '');
	}
	if (rows.length === 0) return [''];
	if (rest.length > 0) rows[rows.length - 1] = `${rows.at(-1)!.slice(0, width - 1)}…`;
	return rows;
}
