import {ProblemError} from '../model/field-error.js';
import type {NodeSsh} from './ssh.js';

// A node restored from a snapshot wakes with the wall clock it had when it was
// saved. It is stepped to the host's time over SSH (busybox and coreutils both
// take `date -u -s @EPOCH`), so certificates, leases and logs see the real time.
// Returns how far the guest was behind, in seconds (whole seconds: what `date` sets).
export async function stepGuestClock(ssh: Pick<NodeSsh, 'exec'>, options: {timeoutMs?: number; signal?: AbortSignal} = {}): Promise<number> {
	const epoch = Math.round(Date.now() / 1000);
	const result = await ssh.exec(`before=$(date +%s) && date -u -s @${epoch} >/dev/null && echo "$before"`, {timeoutMs: options.timeoutMs ?? 10_000, signal: options.signal});
	const before = Number.parseInt(result.stdout.trim(), 10);
	if (result.code !== 0 || !Number.isFinite(before)) {
		throw new ProblemError({message: `could not step the guest clock (exit ${result.code}): ${(result.stderr || result.stdout).trim().slice(0, 200)}`, fix: 'the guest needs a `date` that accepts -s @SECONDS and a login allowed to set the time (root)'});
	}
	return epoch - before;
}
