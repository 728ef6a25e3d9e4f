import {test} from 'node:test';
import assert from 'node:assert/strict';
import {setCheckCell} from '../../source/model/draft-edits.js';
import {checkName as modelCheckName, checkPort} from '../../source/model/check-name.js';
import {checkName} from '../../source/services/checks/registry.js';
import {validateProfile} from '../../source/model/profile-rules.js';
import {formatPlan} from '../../source/model/plan-format.js';
import type {Profile} from '../../source/model/profile-schema.js';
import {planIn, template, tempDir} from '../helpers.js';

const FLAREDB_HEALTH = 8;

function edited(profile: Profile, result: ReturnType<typeof setCheckCell>): Profile {
	assert.ok(!('field' in result), `expected a profile, got ${JSON.stringify(result)}`);
	assert.notEqual(result, profile);
	return result;
}

test('a check port typed as text sets that check only; out-of-range ports are left to validation', () => {
	const profile = template('plasmacloud-3node');
	assert.equal(profile.checks[FLAREDB_HEALTH]!.name, 'flaredb health');
	const next = edited(profile, setCheckCell(profile, FLAREDB_HEALTH, 'port', ' 2579 '));
	assert.equal(checkPort(next.checks[FLAREDB_HEALTH]!), 2579);
	assert.deepEqual(next.checks.filter((_, i) => i !== FLAREDB_HEALTH), profile.checks.filter((_, i) => i !== FLAREDB_HEALTH));
	assert.equal(checkPort(profile.checks[FLAREDB_HEALTH]!), 2479, 'the old profile is not changed');
	for (const port of ['0', '70000']) {
		const errors = validateProfile(edited(profile, setCheckCell(profile, FLAREDB_HEALTH, 'port', port)));
		assert.deepEqual(errors, [{field: 'checks[8].port', message: `${port} is not a TCP port`, fix: 'use a port from 1 to 65535'}]);
	}
});

test('text that is no number is the field error and changes nothing', () => {
	const profile = template('plasmacloud-3node');
	assert.deepEqual(setCheckCell(profile, FLAREDB_HEALTH, 'port', 'http'), {field: 'checks[8].port', message: '"http" is not a TCP port', fix: 'use a port from 1 to 65535'});
	assert.deepEqual(setCheckCell(profile, FLAREDB_HEALTH, 'port', '-1'), {field: 'checks[8].port', message: '"-1" is not a TCP port', fix: 'use a port from 1 to 65535'});
	assert.deepEqual(setCheckCell(profile, 0, 'timeoutSec', ''), {field: 'checks[0].timeoutSec', message: 'an empty value is not a number of seconds', fix: 'set timeoutSec to 1 or more'});
	// A unit check has no port to set.
	assert.equal((setCheckCell(profile, 3, 'port', '80') as {field: string}).field, 'checks[3].port');
	assert.equal((setCheckCell(profile, 99, 'timeoutSec', '80') as {field: string}).field, 'checks[99].timeoutSec');
});

test('a timeout of 0 s is a validation error on the check', () => {
	const profile = template('demo');
	const next = edited(profile, setCheckCell(profile, 5, 'timeoutSec', '0'));
	assert.deepEqual(validateProfile(next), [{field: 'checks[5].timeoutSec', message: '0 s is not a usable timeout', fix: 'set timeoutSec to 1 or more'}]);
	assert.equal(edited(profile, setCheckCell(profile, 5, 'timeoutSec', '15')).checks[5]!.timeoutSec, 15);
});

test('the plan lists every check with its type, port and timeout', () => {
	const profile = template('plasmacloud-3node');
	const plan = planIn(tempDir(), edited(profile, setCheckCell(profile, FLAREDB_HEALTH, 'port', '2579')));
	assert.equal(plan.checks.length, profile.checks.length);
	assert.deepEqual(plan.checks[FLAREDB_HEALTH], {name: 'flaredb health', type: 'http', port: 2579, timeoutSec: 120});
	assert.deepEqual(plan.checks[0], {name: 'ssh', type: 'ssh', port: undefined, timeoutSec: 60});
	const text = formatPlan(plan);
	assert.match(text, /\nchecks \(validate stage\):\n {2}ssh +ssh +timeout 60 s\n/);
	assert.match(text, /\n {2}flaredb health +http +port 2579 +timeout 120 s\n/);
	assert.match(text, /\n {2}flaredb unit +systemd-unit +timeout 300 s\n/);
	// Unnamed checks are named from their parameters, the same name the run and the report use.
	assert.match(formatPlan(planIn(tempDir(), template('demo'))), /\n {2}raft-quorum :2379 +raft-quorum +port 2379 +timeout 90 s\n/);
});

test('checkName comes from the check registry; the model re-exports the same function', () => {
	assert.equal(checkName, modelCheckName);
	assert.deepEqual(template('demo').checks.map(checkName), ['ssh', 'l2-mesh', 'hosts-resolve', 'etcd client port', 'raft-quorum :2379', 'etcd health', 'crud :2379', 'persistence :2379', 'persistence-across-restart :2379', 'metrics :2379', 'tls :2379', 'etcd proxy health', 'proxy-crud :23790']);
});
