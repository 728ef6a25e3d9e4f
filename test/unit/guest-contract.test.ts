// Issue 10, point 6: on main before this, nothing told a custom image's author which NIC is the
// cluster NIC, which fw_cfg names carry the keys or which placeholders exist (no guest-contract module).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {buildPlan, nodeVars} from '../../source/model/plan.js';
import {formatGuestContract, fwCfgSysfsPath, guestContract} from '../../source/model/guest-contract.js';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {tempDir, template} from '../helpers.js';

const context = {clustersDir: '/w', imageDir: '/img', home: '/h'};

function optionValues(args: string[], option: string): string[] {
	return args.flatMap((arg, index) => (arg === option ? [args[index + 1]!] : []));
}

test("the contract's fw_cfg names and NIC order are the ones qemuArgsFor passes", () => {
	const plan = buildPlan(template(), context);
	const node = plan.nodes[0]!;
	const contract = guestContract(plan);
	const text = formatGuestContract(contract).join('\n');

	const fwCfgNames = optionValues(node.qemuArgs, '-fw_cfg').map(value => /^name=([^,]+),/.exec(value)?.[1]);
	assert.deepEqual(contract.fwCfg.map(item => item.name), fwCfgNames);
	for (const name of fwCfgNames) assert.ok(text.includes(`${name} (${fwCfgSysfsPath(name!)})`), `the text names ${name}`);

	// QEMU numbers virtio NICs in the order of their -device options.
	const nics = optionValues(node.qemuArgs, '-device').filter(value => value.startsWith('virtio-net-pci,'));
	const netdevs = nics.map(value => /netdev=([^,]+)/.exec(value)?.[1]);
	assert.deepEqual(contract.nics.map(nic => nic.netdev), netdevs);
	const backends = optionValues(node.qemuArgs, '-netdev');
	assert.match(backends.find(b => b.includes(`id=${netdevs[0]},`))!, /^vde,/, 'the first NIC is on the VDE switch');
	assert.match(backends.find(b => b.includes(`id=${netdevs[1]},`))!, /^user,.*hostfwd=tcp:127\.0\.0\.1:2241-:22/, 'the second NIC is the user-mode management NIC');
	assert.ok(nics[0]!.includes(`mac=${node.mac}`));
	assert.equal(contract.nics[0]!.mac, node.mac);
	assert.match(text, new RegExp(`- NIC 1 \\(netdev ${netdevs[0]}\\): the cluster NIC on the VDE switch, MAC from the profile \\(${node.mac}\\)`));
	assert.match(text, new RegExp(`- NIC 2 \\(netdev ${netdevs[1]}\\): the management NIC`));
	// Issue 14, point 4: the management NIC's MAC was QEMU's choice; now it is the plan's, and the contract says it.
	assert.ok(nics[1]!.includes(`mac=${node.mgmtMac}`));
	assert.equal(contract.nics[1]!.mac, node.mgmtMac);
	assert.ok(text.includes(`the management NIC, QEMU user-mode with restrict=on, MAC ${node.mgmtMac} (fixed per node`), text);
});

test('the contract lists every placeholder of nodeVars, the filled command line, the ready line and the install needs', () => {
	const plan = buildPlan(template(), context);
	const text = formatGuestContract(guestContract(plan)).join('\n');
	for (const name of Object.keys(nodeVars(plan.nodes[0]!, plan.cluster))) assert.ok(text.includes(`- {${name}} (node01: `), `placeholder {${name}}`);
	assert.ok(text.includes(`- node01's line: ${optionValues(plan.nodes[0]!.qemuArgs, '-append')[0]}`));
	assert.match(text, /a console line matching \/plasma-ready\//);
	assert.match(text, /an SFTP subsystem or a POSIX shell with cat, chmod, mv, mkdir and rm/);
	assert.match(text, /- uploads \/etc\/plasma\/secrets\/node01\.key \(mode 0400\)/);

	const custom = template();
	custom.boot.image = 'custom';
	custom.boot.kernel = '/srv/vmlinuz';
	custom.boot.initrd = '/srv/initrd';
	const customText = formatGuestContract(guestContract(buildPlan(custom, context))).join('\n');
	assert.match(customText, /boot\.readyPattern is not set: the SSH wait polls with backoff/);
});

test('image --contract prints the contract for the profile without building anything', () => {
	const home = tempDir();
	const result = spawnSync(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'image', '--contract', '--profile', 'demo'], {encoding: 'utf8', env: {...process.env, PLASMA_TUI_HOME: home}});
	assert.equal(result.status, 0, result.stderr);
	const plan = buildPlan(template(), {clustersDir: path.join(home, 'clusters'), imageDir: path.join(home, 'image'), home});
	assert.equal(result.stdout, `${formatGuestContract(guestContract(plan)).join('\n')}\n`);
	assert.match(result.stdout, /- opt\/plasma\/ssh_host_ed25519_key \(/);
	assert.equal(existsSync(path.join(home, 'image')), false, 'no image was built');
	const bad = spawnSync(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'image', '--contract', '--profile', 'no-such-profile'], {encoding: 'utf8', env: {...process.env, PLASMA_TUI_HOME: home}});
	assert.equal(bad.status, 2);
});
