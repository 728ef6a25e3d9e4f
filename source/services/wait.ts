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
