// Issue 15: a node whose console already said it failed (the demo's "plasma-error sshd did not start ...")
// was waited for until the 240 s SSH timeout. boot.failPattern ends that wait; the demo sets it by default.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {buildPlan, DEMO_FAIL_PATTERN} from '../../source/model/plan.js';
import {formatGuestContract, guestContract} from '../../source/model/guest-contract.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {template} from '../helpers.js';

const context = {clustersDir: '/w', imageDir: '/img', home: '/h'};

test("the demo's fail pattern matches what the demo image prints when sshd does not start", () => {
	const plan = buildPlan(template(), context);
	assert.equal(plan.boot.failPattern, DEMO_FAIL_PATTERN);
	const script = readFileSync(path.resolve(import.meta.dirname, '..', '..', 'image', 'plasma-ready'), 'utf8');
	const printed = /echo "(plasma-error[^"$]*)/.exec(script)?.[1];
	assert.ok(printed, 'image/plasma-ready prints a plasma-error line');
	assert.match(`${printed}: Unable to load host key "/etc/ssh/ssh_host_ed25519_key": error in libcrypto`, new RegExp(plan.boot.failPattern!));
	assert.doesNotMatch('plasma-ready node01 192.168.100.11', new RegExp(plan.boot.failPattern!));
	assert.match(formatGuestContract(guestContract(plan)).join('\n'), /a console line matching \/plasma-error\/ says the node will not come up/);
});

test('a custom image has no fail pattern unless the profile sets one; the profile value wins', () => {
	const custom = template();
	custom.boot.image = 'custom';
	custom.boot.kernel = '/srv/vmlinuz';
	custom.boot.initrd = '/srv/initrd';
	assert.equal(buildPlan(custom, context).boot.failPattern, undefined);
	assert.match(formatGuestContract(guestContract(buildPlan(custom, context))).join('\n'), /boot\.failPattern is not set/);
	custom.boot.failPattern = 'Kernel panic|emergency shell';
	assert.equal(buildPlan(custom, context).boot.failPattern, 'Kernel panic|emergency shell');
});

test('a fail pattern that is not a regular expression is a field error', () => {
	const profile = template();
	const raw = JSON.parse(JSON.stringify(profile)) as {boot: Record<string, unknown>};
	raw.boot['failPattern'] = '(unclosed';
	const result = parseProfile(raw);
	assert.equal(result.ok, false);
	assert.ok(!result.ok && result.errors.some(e => e.field === 'boot.failPattern' && /not a valid regular expression/.test(e.message)));
});
