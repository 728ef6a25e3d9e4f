import fs from 'node:fs/promises';
import {printableLine} from '../model/printable.js';

// The cleaner moved to the model (events and the report use it too); kept here for callers.
export {printableLine};

// Follows a serial console log file as QEMU writes it: new bytes become lines
// (partial lines wait for their end), delivered in batches at a capped rate,
// with a stall callback when the file stops growing.

export type TailOptions = {
	fromStart?: boolean;
	intervalMs?: number;
	stallMs?: number;
	onLines: (lines: string[]) => void;
	onStall?: (silentMs: number) => void;
};

const MAX_READ = 1 << 20;

export function tailFile(file: string, options: TailOptions): {stop: () => void; done: Promise<void>} {
	let stopped = false;
	let offset = -1;
	let partial = '';
	let lastGrowth = Date.now();
	let stallReported = false;
	const interval = options.intervalMs ?? 100;

	const poll = async () => {
		let handle: fs.FileHandle | undefined;
		try {
			handle = await fs.open(file, 'r');
			const {size} = await handle.stat();
			if (offset < 0) offset = options.fromStart === false ? size : 0;
			if (size < offset) offset = 0;
			const lines: string[] = [];
			while (offset < size) {
				const length = Math.min(MAX_READ, size - offset);
				const buffer = Buffer.alloc(length);
				const {bytesRead} = await handle.read(buffer, 0, length, offset);
				if (bytesRead === 0) break;
				offset += bytesRead;
				const parts = (partial + buffer.subarray(0, bytesRead).toString('utf8')).split(/\r?\n/);
				partial = parts.pop() ?? '';
				for (const part of parts) lines.push(printableLine(part));
			}
			if (lines.length > 0) {
				lastGrowth = Date.now();
				stallReported = false;
				options.onLines(lines);
			}
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
		} finally {
			await handle?.close();
		}
		const silent = Date.now() - lastGrowth;
		if (options.stallMs && !stallReported && silent >= options.stallMs) {
			stallReported = true;
			options.onStall?.(silent);
		}
	};

	const done = (async () => {
		while (!stopped) {
			await poll();
			await new Promise(resolve => setTimeout(resolve, interval));
		}
		await poll();
	})();
	return {
		stop: () => {
			stopped = true;
		},
		done,
	};
}
