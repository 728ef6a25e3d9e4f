import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync, realpathSync} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {buildNetboot, detectNix, ensureNixNetboot} from '../../source/services/nix.js';
import {ProblemError} from '../../source/model/field-error.js';
import {planIn, template, tempDir, assertProcessGone} from '../helpers.js';

// The nix service against an executable that stands in for nix on PATH: it
// records its argv, logs like `nix build -L` on stderr, fills a fake store
// directory with the files it is told to, and makes the out link.
const standIn = `#!/bin/sh
if [ "$1" = "--version" ]; then echo "nix (Nix) 2.24.9"; exit 0; fi
rec="$NIX_STANDIN_RECORD"
: > "$rec.argv"
for a in "$@"; do printf '%s\\n' "$a" >> "$rec.argv"; done
prev=""; out=""
for a in "$@"; do [ "$prev" = "--out-link" ] && out="$a"; prev="$a"; done
echo "evaluating derivation '$2'..." >&2
if [ -n "$NIX_STANDIN_GO" ]; then while [ ! -e "$NIX_STANDIN_GO" ]; do sleep 0.05; done; fi
echo "netboot> building '/nix/store/abc-netboot.drv'"
store="$NIX_STANDIN_STORE/abc-netboot"
rm -rf "$store"; mkdir -p "$store"
for f in $NIX_STANDIN_FILES; do echo "$f" > "$store/$f"; done
if [ -n "$NIX_STANDIN_HANG" ]; then sleep 300 & echo $! > "$rec.child"; echo "hanging"; wait; fi
if [ "\${NIX_STANDIN_EXIT:-0}" != 0 ]; then echo "error: builder for '/nix/store/abc-netboot.drv' failed with exit code 2" >&2; exit "$NIX_STANDIN_EXIT"; fi
ln -sfn "$store" "$out"
`;

describe('nix service with a stand-in nix on PATH', () => {
	const dir = tempDir('plasma-nix-');
	const bin = path.join(dir, 'bin');
	const record = path.join(dir, 'record');
	const store = path.join(dir, 'store');
	const originalPath = process.env.PATH;
	const flake = path.join(dir, 'flake');
	const outLink = path.join(dir, 'out', 'result');
	const build = (overrides: {signal?: AbortSignal; onLine?: (line: string) => void; timeoutMs?: number} = {}) =>
		buildNetboot({flake, attribute: 'netboot-base', outLink, signal: overrides.signal, timeoutMs: overrides.timeoutMs, onLine: overrides.onLine ?? (() => undefined)});
	const withEnv = async <T>(env: Record<string, string>, work: () => Promise<T>): Promise<T> => {
		const saved = Object.fromEntries(Object.keys(env).map(key => [key, process.env[key]]));
		Object.assign(process.env, env);
		try {
			return await work();
		} finally {
			for (const [key, value] of Object.entries(saved)) {
				if (value === undefined) delete process.env[key];
				else process.env[key] = value;
			}
		}
	};

	before(async () => {
		await fs.mkdir(bin);
		await fs.writeFile(path.join(bin, 'nix'), standIn, {mode: 0o755});
		// Installed by nix, nixos-anywhere lives in a store path that names its version.
		const anywhere = path.join(store, 'x1-nixos-anywhere-1.9.0', 'bin');
		await fs.mkdir(anywhere, {recursive: true});
		await fs.writeFile(path.join(anywhere, 'nixos-anywhere'), '#!/bin/sh\nexit 99\n', {mode: 0o755});
		await fs.symlink(path.join(anywhere, 'nixos-anywhere'), path.join(bin, 'nixos-anywhere'));
		process.env.PATH = `${bin}:${originalPath}`;
		process.env.NIX_STANDIN_RECORD = record;
		process.env.NIX_STANDIN_STORE = store;
		process.env.NIX_STANDIN_FILES = 'bzImage initrd netboot.ipxe';
	});

	after(() => {
		process.env.PATH = originalPath;
		for (const key of ['NIX_STANDIN_RECORD', 'NIX_STANDIN_STORE', 'NIX_STANDIN_FILES']) delete process.env[key];
	});

	test('detects nix and nixos-anywhere with their versions, and says nothing when they are absent', async () => {
		const tools = await detectNix();
		assert.deepEqual(tools, {nix: {path: path.join(bin, 'nix'), version: '2.24.9'}, nixosAnywhere: {path: path.join(bin, 'nixos-anywhere'), version: '1.9.0'}});
		assert.deepEqual(await detectNix({PATH: path.join(dir, 'empty')}), {});
	});

	test('builds with the exact nix arguments, streams lines as they come, and returns the kernel and initrd', async () => {
		const go = path.join(dir, 'go');
		const lines: string[] = [];
		const files = await withEnv({NIX_STANDIN_GO: go}, () =>
			build({
				onLine: line => {
					lines.push(line);
					// The stand-in holds until this first line has arrived here.
					if (line.startsWith('evaluating derivation')) void fs.writeFile(go, '');
				},
			}),
		);
		assert.deepEqual(readFileSync(`${record}.argv`, 'utf8').trimEnd().split('\n'), ['build', `${flake}#netboot-base`, '--out-link', outLink, '--print-build-logs', '--extra-experimental-features', 'nix-command flakes']);
		assert.deepEqual(lines, [`$ nix build ${flake}#netboot-base --out-link ${outLink} --print-build-logs --extra-experimental-features nix-command flakes`, `evaluating derivation '${flake}#netboot-base'...`, "netboot> building '/nix/store/abc-netboot.drv'"]);
		assert.deepEqual(files, {outPath: realpathSync(path.join(store, 'abc-netboot')), kernel: path.join(outLink, 'bzImage'), initrd: path.join(outLink, 'initrd')});
		assert.equal(readFileSync(files.kernel, 'utf8'), 'bzImage\n');
	});

	test('an output without an initrd is an error naming what is missing and what is there', async () => {
		await withEnv({NIX_STANDIN_FILES: 'bzImage netboot.ipxe'}, async () => {
			await assert.rejects(build(), (error: Error) => {
				assert.ok(error instanceof ProblemError);
				assert.match(error.problem.message, /netboot-base built .*abc-netboot, which has no initrd \(looked for initrd, initrd\.img, initramfs\.img, initramfs\); it holds: bzImage, netboot\.ipxe$/);
				assert.match(error.problem.fix!, /boot\.nixAttr/);
				return true;
			});
		});
		await withEnv({NIX_STANDIN_FILES: 'README'}, async () => {
			await assert.rejects(build(), /which has no kernel \(looked for bzImage, kernel, vmlinuz, Image\) and no initrd/);
		});
	});

	test('a failed build reports the exit code and its last lines', async () => {
		await withEnv({NIX_STANDIN_EXIT: '1'}, async () => {
			await assert.rejects(build(), (error: Error) => {
				assert.ok(error instanceof ProblemError);
				assert.match(error.problem.message, new RegExp(`^nix build ${flake}#netboot-base exited 1; last lines: .*error: builder for '/nix/store/abc-netboot\\.drv' failed with exit code 2`));
				assert.match(error.problem.fix!, /run the same nix build by hand/);
				return true;
			});
		});
	});

	test('cancelling stops nix and what it started; a timeout says so', {timeout: 20_000}, async () => {
		await withEnv({NIX_STANDIN_HANG: '1'}, async () => {
			const controller = new AbortController();
			await assert.rejects(build({signal: controller.signal, onLine: line => line === 'hanging' && controller.abort()}), /nix build .* cancelled/);
			await assertProcessGone(Number(readFileSync(`${record}.child`, 'utf8')));
			await assert.rejects(build({timeoutMs: 1000}), /nix build .* timed out after 1 s/);
			await assertProcessGone(Number(readFileSync(`${record}.child`, 'utf8')));
		});
	});

	test('nix missing from PATH is named with the fix', async () => {
		process.env.PATH = path.join(dir, 'empty');
		try {
			await assert.rejects(build(), (error: Error) => error instanceof ProblemError && error.problem.message === 'nix is not on the PATH' && /nixos\.org/.test(error.problem.fix!));
		} finally {
			process.env.PATH = `${bin}:${originalPath}`;
		}
	});

	test("the plasmacloud template's image stage: planned from boot.nixAttr, built once, then reused", async () => {
		const profile = template('plasmacloud-3node');
		profile.workDir = path.join(dir, 'work');
		const plan = planIn(dir, profile);
		const netboot = path.join(profile.workDir, 'netboot');
		assert.deepEqual(plan.boot.nixBuild, {flake: '.', attribute: 'netboot-base', outLink: path.join(netboot, 'result'), kernelLink: path.join(netboot, 'kernel'), initrdLink: path.join(netboot, 'initrd'), extraArgs: []});
		assert.equal(plan.boot.kernel, plan.boot.nixBuild!.kernelLink);
		assert.deepEqual(plan.nodes[0]!.qemuArgs.slice(plan.nodes[0]!.qemuArgs.indexOf('-kernel'), plan.nodes[0]!.qemuArgs.indexOf('-kernel') + 4), ['-kernel', path.join(netboot, 'kernel'), '-initrd', path.join(netboot, 'initrd')]);

		const target = {...plan.boot.nixBuild!, flake};
		const first = await ensureNixNetboot(target, {onLine: () => undefined});
		assert.equal(first.built, true);
		assert.equal(readFileSync(plan.boot.kernel!, 'utf8'), 'bzImage\n');
		assert.equal(readFileSync(plan.boot.initrd!, 'utf8'), 'initrd\n');
		assert.equal(await fs.readlink(plan.boot.kernel!), path.join('result', 'bzImage'));

		await fs.rm(`${record}.argv`);
		const second = await ensureNixNetboot(target, {onLine: () => undefined});
		assert.equal(second.built, false);
		assert.equal(existsSync(`${record}.argv`), false, 'nix ran although the image was built');
		const forced = await ensureNixNetboot(target, {onLine: () => undefined, force: true});
		assert.equal(forced.built, true);
		assert.equal(existsSync(`${record}.argv`), true);
	});
});
