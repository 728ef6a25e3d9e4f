// Bundles source/cli.tsx into dist/ with esbuild: one ESM entry (dist/cli.js)
// plus chunks. With splitting, every lazy `import()` in the source (Ink and
// React, the run screens, the engine, each command) stays a chunk of its own,
// loaded only when that code runs: `--help` still loads neither Ink nor React.
// Type checking is not done here: the build runs `tsc --noEmit` first.
// Usage: node scripts/bundle.mjs [--outdir DIR] [NAME=SOURCE ...]
//   default: cli=source/cli.tsx into dist/ (the benchmarks bundle other entries elsewhere)
import {readFileSync, rmSync, mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {build} from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const {values, positionals} = parseArgs({options: {outdir: {type: 'string'}}, allowPositionals: true});
const outdir = path.resolve(root, values.outdir ?? 'dist');
const entryPoints = positionals.length > 0 ? Object.fromEntries(positionals.map(arg => arg.split('=', 2))) : {cli: 'source/cli.tsx'};

// Packages with native parts (ssh2 loads cpu-features and its own optional
// binding through require() at run time) stay in node_modules, as does what is
// only imported in development (Ink's devtools).
const external = ['ssh2', 'cpu-features', 'react-devtools-core'];

// A package loaded with `import()` becomes a chunk of its own. When that chunk
// is CommonJS, esbuild exports it as `default` only, where Node would also give
// its named exports: such packages are pointed at their ES module build.
const alias = {'@peculiar/x509': '@peculiar/x509/build/x509.es.js'};
// Loaded with `import()` for their side effects only: CommonJS is fine there.
const sideEffectOnly = new Set(['reflect-metadata']);

// Bundled code that reads files next to itself through import.meta.url would
// look in dist/chunks/. Ink does once, for its own package.json, when DEV=true
// (React devtools): that read is replaced by the file's name and version.
const inkPackageJson = {
	name: 'ink-package-json',
	setup(build) {
		build.onLoad({filter: /[\\/]ink[\\/]build[\\/]reconciler\.js$/}, args => {
			const source = readFileSync(args.path, 'utf8');
			const read = "fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')";
			if (!source.includes(read)) throw new Error(`${args.path} no longer reads its package.json as scripts/bundle.mjs expects: check what it reads through import.meta.url`);
			const {name, version} = JSON.parse(readFileSync(new URL('../package.json', `file://${args.path}`), 'utf8'));
			return {contents: source.replace(read, JSON.stringify(JSON.stringify({name, version}))), loader: 'js'};
		});
	},
};

rmSync(outdir, {recursive: true, force: true});
mkdirSync(outdir, {recursive: true});

const result = await build({
	absWorkingDir: root,
	entryPoints,
	outdir,
	bundle: true,
	splitting: true,
	format: 'esm',
	platform: 'node',
	target: 'node20',
	jsx: 'automatic',
	external,
	alias,
	plugins: [inkPackageJson],
	chunkNames: 'chunks/[name]-[hash]',
	// Bundled CommonJS (React, and what Ink depends on) may require() Node's
	// built-ins: ESM output has no require of its own, so every file gets one.
	banner: {js: "import {createRequire as __plasmaCreateRequire} from 'node:module';\nconst require = __plasmaCreateRequire(import.meta.url);"},
	legalComments: 'none',
	metafile: true,
	logLevel: 'warning',
});

for (const [file, output] of Object.entries(result.metafile.outputs)) {
	const entry = output.entryPoint;
	if (!entry || result.metafile.inputs[entry]?.format !== 'cjs') continue;
	const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(entry)?.[1];
	if (name && sideEffectOnly.has(name)) continue;
	console.error(`bundle: ${file} is CommonJS loaded with import() (${entry}): it would export only \`default\`; alias it to an ES module build in scripts/bundle.mjs`);
	process.exitCode = 1;
}

// The metafile maps every output file to its inputs: the --help smoke test
// uses it to tell which packages the files it loaded contain.
writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));
