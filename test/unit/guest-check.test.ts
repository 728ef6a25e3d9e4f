// Issue 10, point 6: doctor's boot test of a custom image, the parts that need no VM.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {buildPlan} from '../../source/model/plan.js';
import {contractMet, doctorProfile, doctorWorkDir, formatContractPart, needsBootTest, type ContractPart} from '../../source/model/guest-check.js';
import {template} from '../helpers.js';

const context = {clustersDir: '/w', imageDir: '/img', home: '/h'};

function custom() {
	const profile = template();
	profile.boot = {...profile.boot, image: 'custom', kernel: '/srv/vmlinuz', initrd: '/srv/initrd'};
	profile.ssh.hostKeys = {node01: 'SHA256:pinned'};
	profile.network.vdeSocket = '/srv/shared/switch.sock';
	return profile;
}

test('a custom netboot image gets the boot test; the demo only with --boot-test; an ISO never', () => {
	assert.equal(needsBootTest(custom(), false), true);
	assert.equal(needsBootTest(template(), false), false);
	assert.equal(needsBootTest(template(), true), true);
	const iso = custom();
	iso.boot.mode = 'iso';
	assert.equal(needsBootTest(iso, true), false);
});

test("the doctor's profile boots in its own directory on the given ports, on its own switch, with the fw_cfg key expected", () => {
	const profile = custom();
	const workDir = doctorWorkDir('/w/demo');
	const test = doctorProfile(profile, {workDir, sshPorts: [40001, 40002], nodeCount: 2});
	const plan = buildPlan(test, context);
	assert.deepEqual(plan.problems, []);
	assert.equal(plan.workDir, '/w/demo/doctor');
	assert.deepEqual(plan.nodes.map(n => [n.name, n.sshPort]), [['node01', 40001], ['node02', 40002]]);
	assert.equal(plan.vde.socket, '/w/demo/doctor/run/vde/switch.sock', 'not the profile\'s shared switch');
	assert.equal(plan.nodes[0]!.pinnedHostKey, undefined, 'the key from fw_cfg is what is checked, not a pin');
	assert.equal(plan.ssh.hostKeyPolicy, 'generated');
	assert.deepEqual(plan.checks, []);
	assert.equal(plan.install.method, 'none');
	assert.equal(plan.boot.kernel, '/srv/vmlinuz');
	// The operator's profile is left as it was.
	assert.equal(profile.nodes.length, 3);
	assert.equal(profile.ssh.hostKeys['node01'], 'SHA256:pinned');
	assert.equal(doctorProfile(profile, {workDir, sshPorts: [40001], nodeCount: 1}).nodes.length, 1);
});

test('the verdict: every required part met; a skipped optional part does not fail it', () => {
	const part = (id: ContractPart['id'], status: ContractPart['status'], required = true): ContractPart => ({id, title: id, status, reason: 'why', required});
	assert.equal(contractMet([part('ready-line', 'ok'), part('ssh', 'ok'), part('cluster-ip', 'skipped', false)]), true);
	assert.equal(contractMet([part('ready-line', 'failed'), part('ssh', 'skipped', false)]), false);
	assert.equal(formatContractPart(part('login', 'failed')), 'failed authorized key from fw_cfg accepted: why');
	assert.equal(formatContractPart(part('ssh', 'ok')), 'ok     SSH answered on the forwarded port: why');
});
