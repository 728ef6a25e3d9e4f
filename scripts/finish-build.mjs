// tsc keeps the shebang of source/cli.tsx; the bin still needs its execute bit.
import {chmodSync} from 'node:fs';
chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);
