import {execa} from 'execa';

// Reads and types into a tmux session the way a person would: capture-pane and send-keys.
export function tmuxDriver(session: () => string, keyDelayMs = 60) {
	const screen = async (): Promise<string> => (await execa('tmux', ['capture-pane', '-p', '-t', session()])).stdout;

	const waitForScreen = async (text: string | RegExp, timeoutMs = 15_000): Promise<string> => {
		const started = Date.now();
		let last = '';
		while (Date.now() - started < timeoutMs) {
			last = await screen();
			if (typeof text === 'string' ? last.includes(text) : text.test(last)) return last;
			await new Promise(resolve => setTimeout(resolve, 100));
		}
		throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(text)} on the screen; it shows:\n${last}`);
	};

	const keys = async (...names: string[]): Promise<void> => {
		for (const name of names) {
			await execa('tmux', ['send-keys', '-t', session(), name]);
			await new Promise(resolve => setTimeout(resolve, keyDelayMs));
		}
	};

	return {screen, waitForScreen, keys};
}
