import {ProblemError} from '../model/field-error.js';

// Every wait has a timeout and says what it waits for.
export async function waitFor<T>(
	what: string,
	attempt: () => Promise<T | undefined>,
	options: {timeoutMs: number; intervalMs?: number; signal?: AbortSignal},
): Promise<T> {
	const started = Date.now();
	let lastError = '';
	for (;;) {
		options.signal?.throwIfAborted();
		try {
			const result = await attempt();
			if (result !== undefined) return result;
		} catch (error) {
			lastError = (error as Error).message;
		}
		if (Date.now() - started > options.timeoutMs) {
			throw new ProblemError({message: `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}${lastError ? `: ${lastError}` : ''}`});
		}
		await new Promise(resolve => setTimeout(resolve, options.intervalMs ?? 200));
	}
}

// promise, or tooLate() once ms have passed; what it brings after that is let go (discard).
export function withDeadline<T>(promise: Promise<T>, ms: number, tooLate: () => Error, discard?: (late: T) => void): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		let expired = false;
		const timer = setTimeout(() => {
			expired = true;
			reject(tooLate());
		}, Math.max(0, ms));
		promise.then(
			value => {
				clearTimeout(timer);
				if (expired) discard?.(value);
				else resolve(value);
			},
			(error: unknown) => {
				clearTimeout(timer);
				reject(error);
			},
		);
	});
}
