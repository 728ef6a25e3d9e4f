import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

// Where things live on the host. PLASMA_TUI_HOME moves all of it (tests use a temp dir).
export type ToolPaths = {
	home: string;
	configDir: string;
	clustersDir: string;
	imageDir: string;
};

export function toolPaths(env: NodeJS.ProcessEnv = process.env): ToolPaths {
	const home = env['PLASMA_TUI_HOME'];
	if (home) {
		return {
			home,
			configDir: path.join(home, 'config'),
			clustersDir: path.join(home, 'clusters'),
			imageDir: env['PLASMA_TUI_IMAGE_DIR'] ?? path.join(home, 'image'),
		};
	}
	const userHome = os.homedir();
	const dataHome = env['XDG_DATA_HOME'] ?? path.join(userHome, '.local', 'share');
	const configHome = env['XDG_CONFIG_HOME'] ?? path.join(userHome, '.config');
	const cacheHome = env['XDG_CACHE_HOME'] ?? path.join(userHome, '.cache');
	return {
		home: path.join(dataHome, 'plasma-tui'),
		configDir: path.join(configHome, 'plasma-tui'),
		clustersDir: path.join(dataHome, 'plasma-tui', 'clusters'),
		imageDir: env['PLASMA_TUI_IMAGE_DIR'] ?? path.join(cacheHome, 'plasma-tui', 'image'),
	};
}

// The package root: the nearest folder above this module whose package.json is
// plasma-tui's. The same from source/services (tsx), a bundled dist/ chunk or an
// installed copy, whatever the folder layout under it.
const PACKAGE_NAME = 'plasma-tui';
let root: string | undefined;

export function packageRoot(): string {
	if (root !== undefined) return root;
	const start = path.dirname(fileURLToPath(import.meta.url));
	for (let dir = start; ; dir = path.dirname(dir)) {
		try {
			const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {name?: unknown};
			if (pkg.name === PACKAGE_NAME) return (root = dir);
		} catch {
			// no package.json here, or not JSON: keep walking up
		}
		if (path.dirname(dir) === dir) throw new Error(`plasma-tui: no package.json named ${PACKAGE_NAME} above ${start}`);
	}
}

export function templatesDir(): string {
	return path.join(packageRoot(), 'profiles');
}

// The rehearsal scenarios shipped with the package (`rehearse leader-loss`).
export function scenariosDir(): string {
	return path.join(packageRoot(), 'scenarios');
}
