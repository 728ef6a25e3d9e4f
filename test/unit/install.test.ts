import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync, statSync} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import type {Profile} from '../../source/model/profile-schema.js';
import type {Plan} from '../../source/model/plan.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {installNode, mergeHosts} from '../../source/services/install.js';
import {renderCommand} from '../../source/model/install-plan.js';
import {shellQuote} from '../../source/model/shell-quote.js';
import {ProblemError} from '../../source/model/field-error.js';
import {NodeSsh} from '../../source/services/ssh.js';
import {planIn, skipUnless, template, tempDir, assertProcessGone} from '../helpers.js';
import {sshdForPlan, sshdPrerequisites, type LocalSshd} from '../local-sshd.js';

const modeOf = (file: string) => statSync(file).mode & 0o777;

// Values a profile could carry that a shell would otherwise run.
const HOSTILE = ['$(touch MARKER)', '`touch MARKER`', 'a; touch MARKER', "it's'; touch MARKER; echo '", 'line\ntouch MARKER', '"; touch MARKER; "', 'ünïcødé ☃ $HOME', 'x'.repeat(5000)];

describe('mergeHosts', () => {
	const block = '# plasma-tui cluster demo\n192.168.100.11 node01 node01.demo.internal\n192.168.100.12 node02 node02.demo.internal\n';

	test('adds the cluster block once, and replaces it on a second merge', () => {
		const first = mergeHosts('127.0.0.1 localhost\n', block);
		assert.equal(first, `127.0.0.1 localhost\n# BEGIN plasma-tui\n${block}# END plasma-tui\n`);
		const changed = block.replace('192.168.100.12', '192.168.100.22');
		const second = mergeHosts(first, changed);
		assert.equal(second.match(/# BEGIN plasma-tui/g)?.length, 1);
		assert.ok(second.includes('192.168.100.22 node02') && !second.includes('192.168.100.12'));
		assert.equal(mergeHosts(second, changed), second);
	});

	test("a distro line that gives a cluster hostname another address loses that name", () => {
		const merged = mergeHosts('127.0.0.1 localhost\n127.0.1.1 node01\n127.0.1.1 NODE02 debian\n192.168.100.11 node01\n::1 localhost ip6-localhost\n', block);
		const outside = merged.slice(0, merged.indexOf('# BEGIN'));
		assert.equal(outside, '127.0.0.1 localhost\n127.0.1.1 debian\n192.168.100.11 node01\n::1 localhost ip6-localhost\n');
	});

	test('an empty hosts file gets just the block', () => {
		assert.equal(mergeHosts('', block), `# BEGIN plasma-tui\n${block}# END plasma-tui\n`);
		assert.equal(mergeHosts('\n\n', block), `# BEGIN plasma-tui\n${block}# END plasma-tui\n`);
	});
});

describe('shell quoting of template values', () => {
	test('every hostile value reaches sh as one literal argument and never runs', async () => {
		const dir = tempDir('plasma-quote-');
		const marker = path.join(dir, 'pwned');
		for (const raw of HOSTILE) {
			const value = raw.replaceAll('MARKER', marker);
			const command = renderCommand('printf %s {value}', {value});
			const result = await execa('sh', ['-c', command]);
			assert.equal(result.stdout, value);
		}
		assert.equal(existsSync(marker), false, 'a template value was executed');
		assert.equal(shellQuote("it's"), `'it'\\''s'`);
	});

	test('placeholders the template does not know stay as they are; a NUL is refused with the variable', () => {
		assert.equal(renderCommand('echo {name} {unknown}', {name: 'node01'}), "echo 'node01' {unknown}");
		assert.throws(() => renderCommand('echo {cluster}', {cluster: 'a\0b'}), /\{cluster\} contains a NUL byte/);
		assert.equal(renderCommand('echo {name}', {name: 'node01', cluster: 'a\0b'}), "echo 'node01'");
	});
});

const skip = skipUnless(await sshdPrerequisites());

describe('push install over SFTP to a real sshd', {skip}, () => {
	const dir = tempDir('plasma-push-');
	const remote = path.join(dir, 'remote');
	const hostsFile = path.join(remote, 'etc', 'hosts');
	const order = path.join(dir, 'order.log');
	const marker = path.join(dir, 'pwned');
	let sshd: LocalSshd;
	let ssh: NodeSsh;

	const pushProfile = (commands: string[], tweak: (profile: Profile) => void = () => undefined): {profile: Profile; plan: Plan} => {
		const profile = template('demo');
		profile.workDir = path.join(dir, 'work');
		profile.tls.remoteDir = path.join(remote, 'secrets');
		profile.install.push.files = [{src: path.join(dir, 'app.conf'), dest: path.join(remote, 'opt', 'app', 'app.conf'), mode: '0600'}];
		profile.install.push.commands = commands;
		tweak(profile);
		return {profile, plan: planIn(dir, profile)};
	};
	const install = (setup: {profile: Profile; plan: Plan}, lines: string[] = []) =>
		installNode({plan: setup.plan, node: setup.plan.nodes[0]!, ssh, hostsFile, onLine: line => lines.push(line)});

	before(async () => {
		await fs.writeFile(path.join(dir, 'app.conf'), 'setting = 1\n');
		const {plan} = pushProfile([]);
		await writeArtifacts(plan);
		({sshd, ssh} = await sshdForPlan(plan));
	});

	after(async () => {
		ssh?.close();
		await sshd?.stop();
	});

	test('uploads land with their modes, the secrets dir is 0700, hosts are merged, commands run in order', async () => {
		await fs.mkdir(path.join(remote, 'secrets'), {recursive: true, mode: 0o755});
		await fs.chmod(path.join(remote, 'secrets'), 0o755);
		await fs.mkdir(path.dirname(hostsFile), {recursive: true});
		await fs.writeFile(hostsFile, '127.0.0.1 localhost\n127.0.1.1 node01 node01.localdomain\n');
		const setup = pushProfile([`echo {name} >> ${order}`, `echo {ip} >> ${order}`]);
		const node = setup.plan.nodes[0]!;
		const lines: string[] = [];
		await install(setup, lines);

		const secrets = path.join(remote, 'secrets');
		assert.equal(modeOf(secrets), 0o700);
		for (const [file, mode, local] of [
			['ca.crt', 0o644, node.secrets.ca],
			['node01.crt', 0o644, node.secrets.cert],
			['node01.key', 0o400, node.secrets.key],
			['cluster-config.json', 0o644, node.files.clusterConfig],
		] as const) {
			assert.equal(modeOf(path.join(secrets, file)), mode, file);
			assert.equal(readFileSync(path.join(secrets, file), 'utf8'), readFileSync(local, 'utf8'), file);
		}
		assert.equal(modeOf(path.join(remote, 'opt', 'app', 'app.conf')), 0o600);
		assert.equal(readFileSync(order, 'utf8'), 'node01\n192.168.100.11\n');

		const hosts = readFileSync(hostsFile, 'utf8');
		assert.match(hosts, /^127\.0\.0\.1 localhost\n127\.0\.1\.1 node01\.localdomain\n# BEGIN plasma-tui\n/);
		for (const other of setup.plan.nodes) assert.match(hosts, new RegExp(`^${other.ip.replaceAll('.', '\\.')} ${other.hostname} ${other.fqdn}$`, 'm'));
		assert.ok(lines.includes(`uploaded node01.key -> ${path.join(secrets, 'node01.key')} (0400)`), lines.join('\n'));
		assert.deepEqual(readFileSync(node.runtime.installLog, 'utf8').trimEnd().split('\n').slice(-lines.length), lines);

		// A forced rerun: same files, one hosts block, the key still 0400.
		await install(setup);
		assert.equal(readFileSync(hostsFile, 'utf8'), hosts);
		assert.equal(modeOf(path.join(secrets, 'node01.key')), 0o400);
	});

	test('commands stop at the first non-zero exit and report its stderr', async () => {
		await fs.rm(order, {force: true});
		const setup = pushProfile([`echo one >> ${order}`, `echo two >> ${order}; echo 'disk full on /var' >&2; exit 7`, `echo three >> ${order}`]);
		const lines: string[] = [];
		await assert.rejects(install(setup, lines), /install\.push\.commands\[1\] exited 7: disk full on \/var/);
		assert.equal(readFileSync(order, 'utf8'), 'one\ntwo\n');
		assert.match(lines.at(-1)!, /^install failed: install\.push\.commands\[1\] exited 7/);
	});

	test('hostile profile values in commands are single-quoted and never executed', async () => {
		const out = path.join(dir, 'values.txt');
		const cluster = HOSTILE[0]!.replaceAll('MARKER', marker);
		const domain = HOSTILE.slice(1, 6).join('').replaceAll('MARKER', marker);
		const setup = pushProfile([`printf '%s\\n' {cluster} {domain} {fqdn} > ${out}`], profile => {
			profile.cluster.name = cluster;
			profile.cluster.domain = domain;
		});
		await install(setup);
		assert.equal(readFileSync(out, 'utf8'), `${cluster}\n${domain}\nnode01.${domain}\n`);
		assert.equal(existsSync(marker), false, 'a profile value was executed on the node');
	});
});

describe('nixos-anywhere install with a stand-in on PATH', () => {
	const dir = tempDir('plasma-nixos-anywhere-');
	const bin = path.join(dir, 'bin');
	const record = path.join(dir, 'record');
	const originalPath = process.env.PATH;
	const extraArgs = ['--build-on', 'local', '--option', 'max-jobs', '2'];
	const profile = template('plasmacloud-3node');
	profile.workDir = path.join(dir, 'work');
	profile.network.sshPortBase = 42201;
	profile.install.nixosAnywhere = {...profile.install.nixosAnywhere, flake: '/srv/plasmacloud', extraArgs};
	profile.install.timeoutSec = 30;
	const plan = planIn(dir, profile);
	const node = plan.nodes[0]!;
	const run = (options: {onLine?: (line: string) => void; signal?: AbortSignal; plan?: Plan} = {}) =>
		installNode({plan: options.plan ?? plan, node: (options.plan ?? plan).nodes[0]!, signal: options.signal, onLine: options.onLine ?? (() => undefined)});

	// Records its argv and a copy of the extra-files tree (modes kept), prints
	// progress, can wait for a go file, hang with a child, and exit as told.
	const standIn = `#!/bin/sh
rec="$STANDIN_RECORD"
: > "$rec.argv"
for a in "$@"; do printf '%s\\n' "$a" >> "$rec.argv"; done
prev=""; extra=""
for a in "$@"; do [ "$prev" = "--extra-files" ] && extra="$a"; prev="$a"; done
rm -rf "$rec.tree"; cp -a "$extra" "$rec.tree"
echo "### Uploading install SSH keys ###"
if [ -n "$STANDIN_GO" ]; then while [ ! -e "$STANDIN_GO" ]; do sleep 0.05; done; fi
echo "### Installing NixOS ###"
echo "warning: something on stderr" >&2
if [ -n "$STANDIN_HANG" ]; then sleep 300 & echo $! > "$rec.child"; echo "hanging"; wait; fi
i=1; while [ $i -le 8 ]; do echo "line $i"; i=$((i + 1)); done
exit "\${STANDIN_EXIT:-0}"
`;

	before(async () => {
		await writeArtifacts(plan);
		await fs.mkdir(bin);
		await fs.writeFile(path.join(bin, 'nixos-anywhere'), standIn, {mode: 0o755});
		process.env.PATH = `${bin}:${originalPath}`;
		process.env.STANDIN_RECORD = record;
	});

	after(() => {
		process.env.PATH = originalPath;
		for (const name of ['STANDIN_RECORD', 'STANDIN_GO', 'STANDIN_HANG', 'STANDIN_EXIT']) delete process.env[name];
	});

	test('runs with the plan\'s exact argument array and an extra-files tree with the secrets at /etc/nixos/secrets', async () => {
		await run();
		const argv = readFileSync(`${record}.argv`, 'utf8').trimEnd().split('\n');
		assert.equal(node.install.method, 'nixos-anywhere');
		const planned = node.install.method === 'nixos-anywhere' ? node.install : undefined;
		const extraDir = argv[3]!;
		assert.equal(extraDir, planned?.extraFilesRoot);
		assert.deepEqual(argv, ['--flake', '/srv/plasmacloud#node01', '--extra-files', extraDir, '-p', '42201', '--post-kexec-ssh-port', '42201', '-i', plan.ssh.privateKey, ...extraArgs, 'root@127.0.0.1']);
		assert.deepEqual(argv, planned?.argv);
		assert.equal(existsSync(extraDir), false, 'the extra-files tree is removed afterwards');
		assert.equal(existsSync(planned!.extraFilesDir), false, 'and its staging directory');

		const tree = `${record}.tree`;
		// Untarred over the new root with its modes: the path to the secrets must look like a normal /etc.
		for (const [dirPath, mode] of [['', 0o755], ['etc', 0o755], ['etc/nixos', 0o755], ['etc/nixos/secrets', 0o700], ['etc/ssh', 0o755]] as const) assert.equal(modeOf(path.join(tree, dirPath)), mode, `/${dirPath}`);
		const secrets = path.join(tree, 'etc/nixos/secrets');
		assert.deepEqual((await fs.readdir(secrets)).sort(), ['ca.crt', 'cluster-config.json', 'node01.crt', 'node01.key']);
		assert.equal(modeOf(path.join(secrets, 'node01.key')), 0o400);
		assert.equal(modeOf(path.join(secrets, 'ca.crt')), 0o644);
		assert.equal(modeOf(path.join(secrets, 'cluster-config.json')), 0o644);
		assert.equal(readFileSync(path.join(secrets, 'cluster-config.json'), 'utf8'), readFileSync(node.files.clusterConfig, 'utf8'));
		assert.equal(readFileSync(path.join(secrets, 'node01.key'), 'utf8'), readFileSync(node.secrets.key, 'utf8'));
		assert.equal(modeOf(path.join(tree, 'etc/ssh/ssh_host_ed25519_key')), 0o600);
		assert.equal(readFileSync(path.join(tree, 'etc/ssh/ssh_host_ed25519_key'), 'utf8'), readFileSync(node.files.hostKey, 'utf8'));
	});

	test('output lines reach onLine while nixos-anywhere is still running, and the install log', async () => {
		const go = path.join(dir, 'go');
		process.env.STANDIN_GO = go;
		const lines: string[] = [];
		try {
			// The stand-in waits for the go file, which is written only when the first line has arrived.
			await run({
				onLine: line => {
					lines.push(line);
					if (line.includes('Uploading install SSH keys')) void fs.writeFile(go, '');
				},
			});
		} finally {
			delete process.env.STANDIN_GO;
		}
		assert.match(lines[0]!, /^\$ nixos-anywhere --flake \/srv\/plasmacloud#node01 --extra-files /);
		// stdout keeps its order; the stderr line comes through too (two pipes: no order between them).
		const stdout = ['### Uploading install SSH keys ###', '### Installing NixOS ###', ...Array.from({length: 8}, (_, i) => `line ${i + 1}`)];
		assert.deepEqual(lines.slice(1).filter(line => !line.startsWith('warning')), stdout);
		assert.ok(lines.includes('warning: something on stderr'));
		const log = readFileSync(node.runtime.installLog, 'utf8');
		assert.ok(log.includes('### Uploading install SSH keys ###\n') && log.includes('warning: something on stderr\n') && log.includes('line 8\n'), log);
	});

	test('a failure reports the exit code and the last lines', async () => {
		process.env.STANDIN_EXIT = '3';
		const lines: string[] = [];
		try {
			await assert.rejects(run({onLine: line => lines.push(line)}), (error: Error) => {
				assert.ok(error instanceof ProblemError);
				// The five lines the pane showed last, in the order it showed them.
				assert.equal(error.message, `nixos-anywhere exited 3; last lines: ${lines.slice(-6, -1).join(' | ')}`);
				assert.match(error.message, /line 7.*line 8/);
				return true;
			});
		} finally {
			delete process.env.STANDIN_EXIT;
		}
		assert.match(lines.at(-1)!, /^install failed: nixos-anywhere exited 3; last lines: /);
	});

	test('cancelling stops nixos-anywhere and the processes it started', {timeout: 20_000}, async () => {
		process.env.STANDIN_HANG = '1';
		const controller = new AbortController();
		const started = Date.now();
		try {
			await assert.rejects(run({onLine: line => line === 'hanging' && controller.abort(), signal: controller.signal}), /nixos-anywhere cancelled; last lines: .*hanging/);
		} finally {
			delete process.env.STANDIN_HANG;
		}
		assert.ok(Date.now() - started < 10_000);
		await assertProcessGone(Number(readFileSync(`${record}.child`, 'utf8')));
	});

	test('a run over the install timeout is stopped with its processes and says so', {timeout: 20_000}, async () => {
		process.env.STANDIN_HANG = '1';
		const short = structuredClone(profile);
		short.install.timeoutSec = 1;
		try {
			await assert.rejects(run({plan: planIn(dir, short)}), /nixos-anywhere timed out after 1 s; last lines: .*hanging/);
		} finally {
			delete process.env.STANDIN_HANG;
		}
		await assertProcessGone(Number(readFileSync(`${record}.child`, 'utf8')));
	});

	test('nixos-anywhere missing from PATH is named with the fix', async () => {
		process.env.PATH = path.join(dir, 'empty');
		try {
			await assert.rejects(run(), /nixos-anywhere is not on the PATH \(fix: nix profile install github:nix-community\/nixos-anywhere\)/);
		} finally {
			process.env.PATH = `${bin}:${originalPath}`;
		}
	});
});
