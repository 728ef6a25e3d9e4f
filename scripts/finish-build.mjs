// The bin needs its shebang (esbuild keeps the one on source/cli.tsx; added
// here if it ever does not) and its execute bit.
import {chmodSync, readFileSync, writeFileSync} from 'node:fs';

const bin = new URL('../dist/cli.js', import.meta.url);
const text = readFileSync(bin, 'utf8');
if (!text.startsWith('#!')) writeFileSync(bin, `#!/usr/bin/env node\n${text}`);
chmodSync(bin, 0o755);
