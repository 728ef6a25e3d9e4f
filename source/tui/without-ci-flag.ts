// Ink reads CI once, when it is first imported, and then draws only the final frame.
// A person at a real terminal still needs live frames, so Ink is loaded with the flag hidden;
// the environment is restored at once, so child processes see it unchanged.
const CI_KEYS = ['CI', 'CONTINUOUS_INTEGRATION'] as const;

export async function withoutCiFlag<T>(load: () => Promise<T>): Promise<T> {
	const saved = CI_KEYS.map(key => [key, process.env[key]] as const);
	for (const key of CI_KEYS) delete process.env[key];
	try {
		return await load();
	} finally {
		for (const [key, value] of saved) if (value !== undefined) process.env[key] = value;
	}
}
