import {constants as fsConstants} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

// The executable a bare command name would run, like `command -v`.
export async function onPath(tool: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
	for (const dir of (env['PATH'] ?? '').split(':').filter(Boolean)) {
		const candidate = path.join(dir, tool);
		try {
			await fs.access(candidate, fsConstants.X_OK);
			return candidate;
		} catch {
			// next
		}
	}
	return undefined;
}
