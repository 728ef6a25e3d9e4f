#!/usr/bin/env node
// A stand-in for nixos-anywhere that installs the demo image the way the real one installs NixOS,
// toward the same VM and with the same argv (model/install-plan.ts): it connects over SSH, partitions
// and formats the disk (disko's part, done by the guest's plasma-disk), copies the system (the demo's
// kernel and initrd, from the --flake directory) and the --extra-files tree onto it, installs a
// bootloader the firmware starts (syslinux: SeaBIOS), and reboots the node. No kexec: the demo
// netboot already runs from RAM, as nixos-anywhere's kexec installer does.
// Select it with install.nixosAnywhere.command (profiles/demo-nixos-anywhere.json).
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import ssh2 from 'ssh2';

const {Client} = ssh2;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
const UNREACHABLE_TIMEOUT_MS = 120_000;

function usage(message) {
	console.error(`nixos-anywhere stand-in: ${message}`);
	console.error('usage: nixos-anywhere-standin --flake DIR#NAME --extra-files DIR [-p PORT] [--post-kexec-ssh-port PORT] -i KEY [--ssh-option OPT] USER@HOST');
	process.exit(2);
}

export function parseArgs(argv) {
	const options = {port: 22, sshOptions: []};
	const valued = {'--flake': 'flake', '--extra-files': 'extraFiles', '-p': 'port', '--post-kexec-ssh-port': 'postKexecPort', '-i': 'identity', '--ssh-option': 'sshOption'};
	for (let index = 0; index < argv.length; index++) {
		const arg = argv[index];
		const key = valued[arg];
		if (key) {
			const value = argv[++index];
			if (value === undefined) usage(`${arg} needs a value`);
			if (key === 'sshOption') options.sshOptions.push(value);
			else options[key] = value;
		} else if (arg.startsWith('-')) {
			console.log(`(stand-in: ${arg} ignored)`);
		} else {
			options.target = arg;
		}
	}
	if (!options.flake || !options.target || !options.identity) usage('--flake, -i and USER@HOST are required');
	const at = options.target.lastIndexOf('@');
	return {...options, user: at < 0 ? 'root' : options.target.slice(0, at), host: at < 0 ? options.target : options.target.slice(at + 1), port: Number(options.port)};
}

// The system the flake names: a directory holding the demo's vmlinuz and initrd.img; a flake
// without them (".") installs the demo image the tool built (PLASMA_TUI_IMAGE_DIR or its cache).
function systemFiles(flake) {
	const dir = flake.slice(0, Math.max(0, flake.lastIndexOf('#'))) || '.';
	const cache = demoImageDir(process.env);
	for (const candidate of [dir, cache]) {
		// A bootloader loads a bzImage only: the demo image keeps one beside its PVH kernel.
		const kernel = ['bzImage', 'vmlinuz'].map(name => path.resolve(candidate, name)).find(file => fs.existsSync(file));
		const initrd = path.resolve(candidate, 'initrd.img');
		if (kernel && fs.existsSync(initrd)) return {kernel, initrd};
	}
	throw new Error(`no system to install: neither ${dir} nor ${cache} holds vmlinuz and initrd.img (run \`plasma-tui image\`)`);
}

// Where plasma-tui keeps the demo image (services/paths.ts toolPaths: the same environment variables).
function demoImageDir(env) {
	if (env.PLASMA_TUI_IMAGE_DIR) return env.PLASMA_TUI_IMAGE_DIR;
	if (env.PLASMA_TUI_HOME) return path.join(env.PLASMA_TUI_HOME, 'image');
	return path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'plasma-tui', 'image');
}

const step = text => console.log(`### ${text} ###`);
const quote = text => `'${String(text).replaceAll("'", `'\\''`)}'`;

function connect(options) {
	return new Promise((resolve, reject) => {
		const client = new Client();
		client.on('ready', () => resolve(client)).on('error', reject);
		client.connect({
			host: options.host,
			port: options.port,
			username: options.user,
			privateKey: fs.readFileSync(options.identity),
			readyTimeout: 30_000,
			// Like nixos-anywhere (StrictHostKeyChecking=no): the caller confirmed the node's key before it started us.
			hostVerifier: key => {
				console.log(`connected to ${options.host}:${options.port}, host key SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`);
				return true;
			},
		});
	});
}

// One command on the node: its output streamed line by line, stdin from `input` (a Buffer or a stream).
function run(client, command, input) {
	return new Promise((resolve, reject) => {
		client.exec(command, (error, stream) => {
			if (error) return reject(error);
			const timer = setTimeout(() => stream.close(), COMMAND_TIMEOUT_MS);
			const lines = chunk => {
				for (const line of chunk.toString().split('\n')) if (line.trim()) console.log(`  ${line}`);
			};
			stream.on('data', lines);
			stream.stderr.on('data', lines);
			stream.on('close', code => {
				clearTimeout(timer);
				if (code === 0) resolve();
				else reject(new Error(`\`${command.length > 80 ? `${command.slice(0, 77)}...` : command}\` exited ${code ?? 'without a code (timed out)'}`));
			});
			if (input === undefined) stream.end();
			else if (Buffer.isBuffer(input) || typeof input === 'string') stream.end(input);
			else input.pipe(stream);
		});
	});
}

// The --extra-files tree as one shell script: directories and files with their modes, under /mnt.
export function extraFilesScript(root) {
	const lines = ['set -e'];
	const walk = relative => {
		for (const entry of fs.readdirSync(path.join(root, relative), {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
			const rel = path.posix.join(relative, entry.name);
			const full = path.join(root, rel);
			const mode = (fs.statSync(full).mode & 0o7777).toString(8);
			const onNode = quote(`/mnt/${rel}`);
			if (entry.isDirectory()) {
				lines.push(`mkdir -p ${onNode}`, `chmod ${mode} ${onNode}`);
				walk(rel);
			} else if (entry.isFile()) {
				lines.push(`base64 -d > ${onNode} <<'PLASMA_EXTRA_FILE'`, fs.readFileSync(full).toString('base64'), 'PLASMA_EXTRA_FILE', `chmod ${mode} ${onNode}`);
			}
		}
	};
	walk('');
	return `${lines.join('\n')}\n`;
}

// The installed system's command line: the running one's, told to start from the disk.
export function installedCmdline(running) {
	const kept = running.trim().split(/\s+/).filter(token => token && !/^(plasma\.boot|BOOT_IMAGE|initrd)=/.test(token));
	return [...kept, 'plasma.boot=disk'].join(' ');
}

// Down once nothing answers with an SSH banner on the port (QEMU exited, or the guest is resetting).
function answers(host, port) {
	return new Promise(resolve => {
		const socket = net.connect({host, port});
		const done = result => {
			socket.destroy();
			resolve(result);
		};
		socket.setTimeout(3000, () => done(false));
		socket.on('error', () => done(false));
		// QEMU's forward accepts and closes at once while the guest does not listen.
		socket.on('close', () => done(false));
		socket.on('data', data => done(data.toString().startsWith('SSH-')));
	});
}

async function waitUnreachable(host, port) {
	const deadline = Date.now() + UNREACHABLE_TIMEOUT_MS;
	while (Date.now() < deadline) {
		if (!(await answers(host, port))) return;
		await new Promise(resolve => setTimeout(resolve, 1000));
	}
	throw new Error(`${host}:${port} still answers ${UNREACHABLE_TIMEOUT_MS / 1000} s after the reboot was asked for`);
}

async function main() {
	const options = parseArgs(process.argv.slice(2));
	const system = systemFiles(options.flake);
	if (options.postKexecPort) console.log(`kexec: skipped (the node already runs from RAM); --post-kexec-ssh-port ${options.postKexecPort} kept`);
	const client = await connect(options);
	let cmdline = '';
	try {
		client.on('error', error => console.error(`ssh: ${error.message}`));
		await new Promise((resolve, reject) =>
			client.exec('cat /proc/cmdline', (error, stream) => {
				if (error) return reject(error);
				stream.on('data', data => (cmdline += data.toString())).on('close', resolve);
				stream.stderr.resume();
			}),
		);
		step('Formatting hard drive with disko (stand-in: plasma-disk system-disk)');
		await run(client, '/sbin/plasma-disk system-disk');
		step(`Installing the system from ${path.dirname(system.kernel)}`);
		// The initrd is gzipped on its way: the demo's is an uncompressed cpio (fast for -initrd), too big for the 64 MiB ESP.
		await run(client, 'cat > /mnt/boot/vmlinuz', fs.createReadStream(system.kernel));
		console.log(`  /mnt/boot/vmlinuz: ${fs.statSync(system.kernel).size} bytes`);
		await run(client, 'cat > /mnt/boot/initrd.img', fs.createReadStream(system.initrd).pipe(zlib.createGzip({level: 1})));
		console.log(`  /mnt/boot/initrd.img: ${fs.statSync(system.initrd).size} bytes, gzipped`);
		if (options.extraFiles) {
			step(`Copying extra files from ${options.extraFiles}`);
			await run(client, 'sh -s', extraFilesScript(options.extraFiles));
		}
		step('Installing the bootloader (syslinux, firmware boot)');
		await run(client, `/sbin/plasma-disk system-boot ${quote(installedCmdline(cmdline))}`);
		step('Rebooting');
		await run(client, "setsid sh -c 'sleep 2; reboot' </dev/null >/dev/null 2>&1 &");
	} finally {
		client.end();
	}
	step('Waiting for the machine to become unreachable due to reboot');
	await waitUnreachable(options.host, options.port);
	step('Done!');
}

// Run as a program (not when a test imports it for its helpers).
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname)) {
	main().catch(error => {
		console.error(`nixos-anywhere stand-in failed: ${error.message}`);
		process.exit(1);
	});
}
