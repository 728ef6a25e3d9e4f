// Issue 14, point 4: on main before this, configuration.nix set networking.useDHCP = false and
// configured only the cluster NIC, so an installed node had no address on the user-mode NIC its SSH
// forward goes through; QEMU chose that NIC's MAC, and `plasma.tls` was a fixed guess at the flake's
// options. Point 5: every generated .nix file is parsed (and evaluated) by the real nix-instantiate.
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {buildPlan, type NodePlan, type Plan} from '../../source/model/plan.js';
import {NIC_NAMES, diskoLayout, nixosModule} from '../../source/model/node-config.js';
import {mgmtMacFor, isMac, isMulticastMac} from '../../source/model/mac.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {hostTools, skipUnless, tempDir, template} from '../helpers.js';

const context = {clustersDir: '/w', imageDir: '/img', home: '/h'};
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq5 operator@host';

function deviceMacs(node: NodePlan): Record<string, string> {
	const devices = node.qemuArgs.filter((arg, index) => node.qemuArgs[index - 1] === '-device' && arg.startsWith('virtio-net-pci,'));
	return Object.fromEntries(devices.map(device => [/netdev=([^,]+)/.exec(device)![1]!, /mac=([^,]+)/.exec(device)?.[1] ?? 'none']));
}

describe('the management NIC has a fixed MAC', () => {
	test('in the QEMU arguments: derived per node, unicast, locally administered, never the cluster MAC', () => {
		for (const name of ['demo', 'plasmacloud-3node']) {
			const plan = buildPlan(template(name), context);
			for (const node of plan.nodes) {
				assert.deepEqual(deviceMacs(node), {cluster: node.mac, mgmt: node.mgmtMac});
				assert.ok(isMac(node.mgmtMac) && !isMulticastMac(node.mgmtMac), node.mgmtMac);
				assert.equal(Number.parseInt(node.mgmtMac.slice(0, 2), 16) & 0x02, 0x02, `${node.mgmtMac} is locally administered`);
				assert.notEqual(node.mgmtMac, node.mac);
			}
			assert.equal(new Set(plan.nodes.map(n => n.mgmtMac)).size, plan.nodes.length, 'one per node');
			assert.deepEqual(buildPlan(template(name), context).nodes.map(n => n.mgmtMac), plan.nodes.map(n => n.mgmtMac), 'the same on every plan');
		}
		assert.equal(mgmtMacFor('52:54:00:00:01:01'), '5a:54:00:00:01:01');
		// Whatever cluster MAC a profile sets, the management MAC differs from it and stays a unicast, local one.
		for (const mac of ['5a:54:00:00:01:01', '00:16:3e:aa:bb:cc', '02:00:00:00:00:01', 'FE:54:00:00:00:09']) {
			const mgmt = mgmtMacFor(mac);
			assert.notEqual(mgmt, mac.toLowerCase());
			assert.ok(isMac(mgmt) && !isMulticastMac(mgmt) && (Number.parseInt(mgmt.slice(0, 2), 16) & 2) === 2, `${mac} -> ${mgmt}`);
		}
	});

	test('configuration.nix finds both NICs by those MACs and takes DHCP on the management one', () => {
		const plan = buildPlan(template('plasmacloud-3node'), context);
		const node = plan.nodes[1]!;
		const nix = nixosModule(plan, node, KEY);
		const link = (name: string, mac: string) => `  systemd.network.links."10-${name}" = {\n    matchConfig.PermanentMACAddress = "${mac}";\n    linkConfig.Name = "${name}";\n  };\n`;
		assert.ok(nix.includes(link(NIC_NAMES.cluster, node.mac)), nix);
		assert.ok(nix.includes(link(NIC_NAMES.management, node.mgmtMac)), nix);
		assert.ok(nix.includes(`  networking.interfaces.${NIC_NAMES.management}.useDHCP = true;\n`), nix);
		assert.ok(nix.includes(`  networking.interfaces.${NIC_NAMES.cluster}.ipv4.addresses = [\n    { address = "${node.ip}"; prefixLength = 24; }\n  ];\n`), nix);
		// DHCP only where QEMU serves it: nothing else on the host's side of the node asks.
		assert.ok(nix.includes('  networking.useDHCP = false;\n'), nix);
	});
});

describe("the flake's module options", () => {
	test('no /etc entry replaces the files the install put under tls.remoteDir', () => {
		for (const remoteDir of ['/etc/nixos/secrets', '/var/lib/plasma/tls']) {
			const profile = template('plasmacloud-3node');
			profile.tls.remoteDir = remoteDir;
			const nix = nixosModule(buildPlan(profile, context), buildPlan(profile, context).nodes[0]!, KEY);
			assert.doesNotMatch(nix, /environment\.etc/);
			assert.ok(nix.includes(`  plasma.clusterConfig = "${remoteDir}/cluster-config.json";\n`), nix);
		}
	});

	test('install.nixos names the option paths (defaults plasma.tls and plasma.clusterConfig); null leaves a setting out', () => {
		const defaults = template('plasmacloud-3node');
		assert.deepEqual(defaults.install.nixos, {tlsOptionPath: 'plasma.tls', clusterConfigOptionPath: 'plasma.clusterConfig'});
		const plan = buildPlan(defaults, context);
		assert.deepEqual(plan.install.nixos, defaults.install.nixos, 'plan --json shows them');
		assert.ok(nixosModule(plan, plan.nodes[0]!, KEY).includes('  plasma.tls = {\n    caCert = "/etc/nixos/secrets/ca.crt";\n    cert = "/etc/nixos/secrets/node01.crt";\n    key = "/etc/nixos/secrets/node01.key";\n  };\n'));

		const custom = template('plasmacloud-3node');
		custom.install.nixos = {tlsOptionPath: 'services.chainfire.tls', clusterConfigOptionPath: null};
		const customPlan = buildPlan(custom, context);
		const nix = nixosModule(customPlan, customPlan.nodes[2]!, KEY);
		assert.ok(nix.includes('  services.chainfire.tls = {\n    caCert = "/etc/nixos/secrets/ca.crt";\n    cert = "/etc/nixos/secrets/node03.crt";\n'), nix);
		assert.doesNotMatch(nix, /^\s*plasma\./m);
		assert.doesNotMatch(nix, /cluster-config\.json/);

		custom.install.nixos = {tlsOptionPath: null, clusterConfigOptionPath: null};
		const bare = nixosModule(buildPlan(custom, context), buildPlan(custom, context).nodes[0]!, KEY);
		assert.doesNotMatch(bare, /caCert|remoteDir|secrets/);
	});

	test('an option path that is not a Nix attribute path, or an unknown key, is refused with its field', () => {
		const profile = template('plasmacloud-3node');
		const withNixos = (nixos: unknown) => parseProfile({...profile, install: {...profile.install, nixos}});
		const bad = withNixos({tlsOptionPath: 'plasma.tls; networking.firewall.enable = false'});
		assert.equal(bad.ok, false);
		if (!bad.ok) {
			assert.equal(bad.errors[0]!.field, 'install.nixos.tlsOptionPath');
			assert.match(bad.errors[0]!.message, /is not a NixOS option path/);
			assert.match(bad.errors[0]!.fix!, /or null to leave the setting out/);
		}
		for (const path of ['', '.plasma', 'plasma..tls', '"plasma".tls', 'plasma.tls.']) assert.equal(withNixos({tlsOptionPath: path}).ok, false, path);
		const unknown = withNixos({tlsOptionPaht: 'plasma.tls'});
		assert.equal(unknown.ok, false);
		if (!unknown.ok) assert.deepEqual([unknown.errors[0]!.field, unknown.errors[0]!.message], ['install.nixos.tlsOptionPaht', 'unknown key "tlsOptionPaht" (did you mean "tlsOptionPath"?)']);
		assert.equal(withNixos({tlsOptionPath: 'services.my-app.tls', clusterConfigOptionPath: null}).ok, true);
	});
});

// Nix 2.8 from Debian, without a daemon or a writable store: `--store dummy://` parses and evaluates
// plain values offline, as root and as any other user.
const nixInstantiate = await hostTools({'nix-instantiate': 'nix-bin'});

async function instantiate(args: string[]): Promise<{ok: boolean; stdout: string; stderr: string}> {
	const result = await execa('nix-instantiate', ['--store', 'dummy://', ...args], {reject: false, timeout: 30_000, env: {NIX_REMOTE: ''}});
	return {ok: result.exitCode === 0, stdout: result.stdout, stderr: result.stderr};
}

describe('every generated .nix file is real Nix', {skip: skipUnless(nixInstantiate)}, () => {
	async function writtenNixFiles(plan: Plan): Promise<string[]> {
		await writeArtifacts(plan);
		return plan.nodes.flatMap(node => [node.files.nixosModule, node.files.disko]);
	}

	test('nix-instantiate --parse accepts every file of both templates, and refuses a broken one', async () => {
		const dir = tempDir('plasma-nixcfg-');
		for (const name of ['demo', 'plasmacloud-3node']) {
			const profile = template(name);
			profile.workDir = path.join(dir, name);
			const files = await writtenNixFiles(buildPlan(profile, {clustersDir: dir, imageDir: path.join(dir, 'image'), home: dir}));
			assert.equal(files.length, profile.nodes.length * 2);
			for (const file of files) {
				const parsed = await instantiate(['--parse', file]);
				assert.ok(parsed.ok, `${file}: ${parsed.stderr}`);
			}
		}
		// The check can fail: the same module with one brace missing does not parse.
		const broken = path.join(dir, 'broken.nix');
		writeFileSync(broken, readFileSync(path.join(dir, 'demo', 'nodes', 'node01', 'configuration.nix'), 'utf8').replace('linkConfig.Name = "mgmt0";\n  };', 'linkConfig.Name = "mgmt0";'));
		const refused = await instantiate(['--parse', broken]);
		assert.equal(refused.ok, false);
		assert.match(refused.stderr, /syntax error/);
	});

	test('evaluated by nix, the module sets what the plan says, with quotes and ${ in values kept literal', async () => {
		const dir = tempDir('plasma-nixcfg-');
		const profile = template('plasmacloud-3node');
		profile.install.nixos.tlsOptionPath = 'services.chainfire.tls';
		const plan = buildPlan(profile, {clustersDir: dir, imageDir: path.join(dir, 'image'), home: dir});
		const node = plan.nodes[0]!;
		const key = 'ssh-ed25519 AAAA "quoted" ${builtins.abort "ran"} \\n';
		const file = path.join(dir, 'configuration.nix');
		writeFileSync(file, nixosModule(plan, node, key));
		const disko = path.join(dir, 'disko.nix');
		writeFileSync(disko, diskoLayout(node));
		const expression = `builtins.removeAttrs (import ${file} {config = {}; lib = {}; pkgs = {};}) ["imports"]`;
		const evaluated = await instantiate(['--eval', '--strict', '--json', '--expr', expression]);
		assert.ok(evaluated.ok, evaluated.stderr);
		const config = JSON.parse(evaluated.stdout);
		assert.deepEqual(config.systemd.network.links, {
			'10-cluster0': {matchConfig: {PermanentMACAddress: node.mac}, linkConfig: {Name: 'cluster0'}},
			'10-mgmt0': {matchConfig: {PermanentMACAddress: node.mgmtMac}, linkConfig: {Name: 'mgmt0'}},
		});
		assert.deepEqual(config.networking.interfaces, {cluster0: {ipv4: {addresses: [{address: node.ip, prefixLength: 24}]}}, mgmt0: {useDHCP: true}});
		assert.equal(config.networking.useDHCP, false);
		assert.deepEqual(config.services.chainfire.tls, {caCert: node.secrets.remoteCa, cert: node.secrets.remoteCert, key: node.secrets.remoteKey});
		assert.equal(config.plasma.clusterConfig, node.secrets.remoteClusterConfig);
		assert.deepEqual(config.users.users.root.openssh.authorizedKeys.keys, [key.trim()]);
		assert.equal(config.environment, undefined);

		const layout = await instantiate(['--eval', '--strict', '--json', disko]);
		assert.ok(layout.ok, layout.stderr);
		const partitions = JSON.parse(layout.stdout).disko.devices.disk.main.content.partitions;
		assert.deepEqual(Object.fromEntries(Object.entries(partitions).map(([name, p]) => [name, (p as {size: string}).size])), {ESP: '512M', root: '81510M', data: '100%'});
	});
});
