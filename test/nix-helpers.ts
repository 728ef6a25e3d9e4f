import fs from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {hostTools} from './helpers.js';

// Real Nix (Debian's nix-bin, 2.8) on this machine, offline and single-user: a store of the test's
// own under its temp directory (no daemon, nothing in /nix), no binary cache (never any traffic
// off this machine), builds as the calling user, and no sandbox (the builder is the host's /bin/sh).

export const nixTools = () => hostTools({nix: 'nix-bin', 'nix-instantiate': 'nix-bin', git: 'git'});

// What a profile's boot.nixBuildArgs carries in these tests.
export const OFFLINE_NIX_ARGS = ['--option', 'substituters', '', '--option', 'build-users-group', '', '--option', 'sandbox', 'false'];

export function offlineNixEnv(dir: string): Record<string, string> {
	return {
		NIX_REMOTE: '',
		NIX_STORE_DIR: path.join(dir, 'store'),
		NIX_STATE_DIR: path.join(dir, 'var'),
		NIX_LOG_DIR: path.join(dir, 'log'),
		XDG_CACHE_HOME: path.join(dir, 'cache'),
		XDG_CONFIG_HOME: path.join(dir, 'config'),
	};
}

const git = (dir: string, args: string[]) => execa('git', ['-C', dir, '-c', 'user.name=plasma-tui test', '-c', 'user.email=test@localhost', ...args], {timeout: 30_000});

// A flake with no inputs (no nixpkgs): `netboot` copies the kernel and initrd that sit in the flake
// tree into its output, the way a real netboot attribute outputs bzImage and initrd. `reads` adds
// files the builder prints (the untracked-file trap), which are not git-added here.
export function flakeText(reads: string[] = []): string {
	const printed = reads.map(file => `        /bin/cat \${./${file}}\n`).join('');
	return `{
  description = "plasma-tui test flake: a netboot kernel and initrd without nixpkgs";
  outputs = { self }: {
    netboot = builtins.derivation {
      name = "plasma-test-netboot";
      system = "x86_64-linux";
      builder = "/bin/sh";
      args = [ "-c" ''
        echo "copying the kernel and initrd"
${printed}        /bin/mkdir -p $out
        /bin/cp \${./vmlinuz} $out/bzImage
        /bin/cp \${./initrd.img} $out/initrd
        echo "kernel and initrd in $out"
      '' ];
    };
  };
}
`;
}

export async function makeFlake(dir: string, files: {kernel: string; initrd: string}): Promise<string> {
	await fs.mkdir(dir, {recursive: true});
	await execa('git', ['init', '-q', dir], {timeout: 30_000});
	await fs.copyFile(files.kernel, path.join(dir, 'vmlinuz'));
	await fs.copyFile(files.initrd, path.join(dir, 'initrd.img'));
	await fs.writeFile(path.join(dir, 'flake.nix'), flakeText());
	await git(dir, ['add', 'flake.nix', 'vmlinuz', 'initrd.img']);
	await git(dir, ['commit', '-q', '-m', 'netboot flake']);
	return dir;
}

export const gitAdd = (dir: string, file: string) => git(dir, ['add', file]);

// A nix store is read-only by design: make it writable again before removing it.
export async function removeTree(dir: string): Promise<void> {
	await execa('chmod', ['-R', 'u+w', dir], {reject: false, timeout: 60_000});
	await fs.rm(dir, {recursive: true, force: true});
}
