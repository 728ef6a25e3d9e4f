// Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal or the SSH session to the
// host went away) all mean the same to a headless command: abort, so that what
// the run started (QEMU, nixos-anywhere, nix, an image build) is stopped before
// the process exits. Without a handler, SIGHUP would end the process at once and
// leave the detached tools running.
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

// Returns the function that removes the handlers again.
export function abortOnSignals(controller: AbortController): () => void {
	const onSignal = () => controller.abort(new Error('interrupted'));
	for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
	return () => {
		for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
	};
}
