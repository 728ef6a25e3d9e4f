import {constants as fsConstants} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {ProblemError} from '../model/field-error.js';
import {nixBuildArgv, type NixNetbootPlan} from '../model/plan.js';
import {onPath} from './on-path.js';
import {ensureUsableDir} from './owned-dir.js';
import {runStreamed, type ChildRecord} from './streamed-command.js';

// Nix on the host: which tools are there, and the netboot kernel + initrd of
// a flake attribute (the plasmacloud template boots from one).

export type NixTool = {path: string; version: string};
export type NixTools = {nix?: NixTool; nixosAnywhere?: NixTool};

export async function detectNix(env: NodeJS.ProcessEnv = process.env): Promise<NixTools> {
	const tools: NixTools = {};
	const nix = await onPath('nix', env);
	if (nix) {
		const result = await execa(nix, ['--version'], {reject: false, timeout: 10_000, env});
		tools.nix = {path: nix, version: result.exitCode === 0 ? (result.stdout.match(/\d+\.\d+[\w.]*/)?.[0] ?? result.stdout.trim()) : 'version unknown'};
	}
	const anywhere = await onPath('nixos-anywhere', env);
	if (anywhere) tools.nixosAnywhere = {path: anywhere, version: await nixosAnywhereVersion(anywhere)};
	return tools;
}

// nixos-anywhere has no --version (an unknown argument becomes its target
// host), so its version is read from the store path it is installed from.
async function nixosAnywhereVersion(file: string): Promise<string> {
	const real = await fs.realpath(file).catch(() => file);
	return real.match(/-nixos-anywhere-(\d[\w.]*)\//)?.[1] ?? 'version unknown';
}

export type NetbootBuild = {flake: string; attribute: string; outLink: string; extraArgs?: string[]};
export type NetbootFiles = {outPath: string; kernel: string; initrd: string};

const KERNEL_NAMES = ['bzImage', 'kernel', 'vmlinuz', 'Image'];
const INITRD_NAMES = ['initrd', 'initrd.img', 'initramfs.img', 'initramfs'];
const BUILD_TIMEOUT_MS = 2 * 60 * 60_000;

// `nix build <flake>#<attribute> --out-link <outLink>`, lines streamed as they
// come; returns the kernel and initrd found under the out link.
// With `state`, the build is in the run's state file while it runs (`down` stops it).
export async function buildNetboot(
	options: NetbootBuild & {signal?: AbortSignal; onLine: (line: string) => void; timeoutMs?: number; env?: NodeJS.ProcessEnv; state?: ChildRecord['state']},
): Promise<NetbootFiles> {
	const ref = `${options.flake}#${options.attribute}`;
	await ensureUsableDir(path.dirname(options.outLink));
	const args = nixBuildArgv(options);
	options.onLine(`$ nix ${args.map(arg => (arg === '' ? "''" : arg)).join(' ')}`);
	const record = options.state ? {state: options.state, kind: 'nix' as const} : undefined;
	const result = await runStreamed('nix', args, {timeoutMs: options.timeoutMs ?? BUILD_TIMEOUT_MS, signal: options.signal, onLine: options.onLine, env: options.env, record});
	if (result.notFound) throw new ProblemError({message: 'nix is not on the PATH', fix: 'install Nix (https://nixos.org/download), or set boot.kernel and boot.initrd to images built elsewhere'});
	const untracked = result.ok ? undefined : untrackedFileIn(result.lastLines);
	if (untracked) {
		throw new ProblemError({
			message: `nix build ${ref} ${result.why}: the flake reads ${untracked}, which is not in the copy nix built from (a flake in a git tree copies only the files git tracks)`,
			fix: `git add ${untracked} in the git tree of ${options.flake} (no commit needed), then run again; plasma-tui doctor lists untracked files before a build`,
		});
	}
	if (!result.ok) throw new ProblemError({message: `nix build ${ref} ${result.why}; last lines: ${result.lastLines.slice(-5).join(' | ') || 'no output'}`, fix: `check boot.nixAttr (${ref}) and run the same nix build by hand to see the whole log`});
	return netbootFilesIn(options.outLink, ref);
}

// The T036 trap as nix reports it: a path inside the flake's store copy ("<hash>-source") that does
// not exist there. Nix 2.8: "getting status of '/nix/store/<hash>-source/FILE': No such file or
// directory"; later versions: "path '/nix/store/<hash>-source/FILE' does not exist".
const MISSING_IN_COPY = /'[^']*\/[0-9a-z]{32}-source\/([^']+)'(?:: No such file or directory| does not exist)/;

export function untrackedFileIn(lines: readonly string[]): string | undefined {
	for (const line of lines) {
		const file = MISSING_IN_COPY.exec(line)?.[1];
		if (file) return file;
	}
	return undefined;
}

export async function netbootFilesIn(outLink: string, ref: string): Promise<NetbootFiles> {
	const outPath = await fs.realpath(outLink).catch(() => {
		throw new ProblemError({message: `nix build ${ref} left no out link at ${outLink}`, fix: 'the attribute must build a derivation (a directory with the kernel and initrd)'});
	});
	const entries = await fs.readdir(outPath).catch(() => [] as string[]);
	const kernel = KERNEL_NAMES.find(name => entries.includes(name));
	const initrd = INITRD_NAMES.find(name => entries.includes(name));
	if (!kernel || !initrd) {
		const missing = [kernel ? undefined : `kernel (looked for ${KERNEL_NAMES.join(', ')})`, initrd ? undefined : `initrd (looked for ${INITRD_NAMES.join(', ')})`].filter(Boolean).join(' and no ');
		throw new ProblemError({
			message: `${ref} built ${outPath}, which has no ${missing}; it holds: ${entries.join(', ') || 'nothing'}`,
			fix: 'point boot.nixAttr at an attribute whose output has both, e.g. a symlinkJoin of config.system.build.kernel and config.system.build.netbootRamdisk',
		});
	}
	return {outPath, kernel: path.join(outLink, kernel), initrd: path.join(outLink, initrd)};
}

// The image stage of a nix-booted profile: build only when the planned kernel
// and initrd links do not resolve yet (or when forced), then point the links
// at what was built. The links are relative to the out link, which stays a GC
// root, so the store paths QEMU boots from are not collected.
export async function ensureNixNetboot(
	build: NixNetbootPlan,
	options: {signal?: AbortSignal; onLine: (line: string) => void; force?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv; state?: ChildRecord['state']},
): Promise<NetbootFiles & {built: boolean}> {
	const readable = (file: string) => fs.access(file, fsConstants.R_OK).then(() => true, () => false);
	if (!options.force && (await readable(build.kernelLink)) && (await readable(build.initrdLink))) {
		return {outPath: await fs.realpath(build.outLink).catch(() => build.outLink), kernel: build.kernelLink, initrd: build.initrdLink, built: false};
	}
	const files = await buildNetboot({...build, signal: options.signal, onLine: options.onLine, timeoutMs: options.timeoutMs, env: options.env, state: options.state});
	await linkAtomically(files.kernel, build.kernelLink);
	await linkAtomically(files.initrd, build.initrdLink);
	options.onLine(`kernel ${build.kernelLink} -> ${path.relative(path.dirname(build.kernelLink), files.kernel)}, initrd ${build.initrdLink} -> ${path.relative(path.dirname(build.initrdLink), files.initrd)}`);
	return {outPath: files.outPath, kernel: build.kernelLink, initrd: build.initrdLink, built: true};
}

async function linkAtomically(target: string, link: string): Promise<void> {
	const temporary = `${link}.${process.pid}.tmp`;
	await fs.rm(temporary, {force: true});
	await fs.symlink(path.relative(path.dirname(link), target), temporary);
	await fs.rename(temporary, link);
}
