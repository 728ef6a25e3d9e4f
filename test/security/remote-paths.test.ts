// Issue 9, point 9. On main before this: tls.remoteDir = "/x; touch /tmp/PWN #" was a valid
// profile (`plan --profile-file` exited 0), so a push command written `sh -c 'ls {secretsDir}'`
// ran the touch on the node; push destinations and explainLog took any characters and "..".
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {parseProfile} from '../../source/model/parse-profile.js';
import {tempDir, template} from '../helpers.js';

const ALLOWED = 'A-Z a-z 0-9 . _ / -';

function errorsOf(edit: (profile: ReturnType<typeof template>) => void) {
	const profile = template();
	edit(profile);
	const result = parseProfile(profile);
	return result.ok ? [] : result.errors;
}

test('tls.remoteDir with shell syntax is refused by parseProfile, naming the allowed characters', () => {
	const errors = errorsOf(p => (p.tls.remoteDir = '/x; touch /tmp/PWN #'));
	assert.deepEqual(
		errors.map(e => [e.field, e.message, e.fix]),
		[['tls.remoteDir', `"/x; touch /tmp/PWN #" has the character ; at position 2; a path on the node may hold only ${ALLOWED}`, `write an absolute path of ${ALLOWED} only, without "..", e.g. /etc/plasma/secrets`]],
	);
});

test('plan --profile-file refuses it with exit 2 and the field error', () => {
	const home = tempDir('plasma-remote-path-');
	const profile = template();
	profile.tls.remoteDir = '/x; touch /tmp/PWN #';
	const file = path.join(home, 'pwn.json');
	writeFileSync(file, JSON.stringify(profile));
	const result = spawnSync(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'plan', '--profile-file', file], {encoding: 'utf8', env: {...process.env, PLASMA_TUI_HOME: home}});
	assert.equal(result.status, 2, result.stdout);
	assert.match(result.stderr, /tls\.remoteDir: "\/x; touch \/tmp\/PWN #" has the character ; at position 2; a path on the node may hold only A-Z a-z 0-9 \. _ \/ - \(fix: /);
});

test('every path on the node is held to the same characters: push destinations and explainLog too', () => {
	const cases: Array<[string, (p: ReturnType<typeof template>) => void, RegExp]> = [
		['tls.remoteDir', p => (p.tls.remoteDir = '/etc/$(id)'), /has the character \$ at position 5/],
		['tls.remoteDir', p => (p.tls.remoteDir = '/etc/plasma/../../root/.ssh'), /has a "\.\." part/],
		['tls.remoteDir', p => (p.tls.remoteDir = 'etc/plasma'), /is not an absolute path on the node/],
		['tls.remoteDir', p => (p.tls.remoteDir = '/etc/pla sma'), /has a space at position 8/],
		['tls.remoteDir', p => (p.tls.remoteDir = '/etc/🦀'), /has the character 🦀 at position 5/],
		['install.push.files[0].dest', p => (p.install.push.files = [{src: '/etc/hostname', dest: "/etc/a'b", mode: '0644'}]), /has the character ' at position 6/],
		['install.push.files[0].dest', p => (p.install.push.files = [{src: '/etc/hostname', dest: '/etc/../x', mode: '0644'}]), /has a "\.\." part/],
		['checks[1].explainLog', p => (p.checks[1]!.explainLog = '/var/log/etcd.log`reboot`'), /has the character ` at position 17/],
		['checks[1].explainLog', p => (p.checks[1]!.explainLog = '-f'), /is not an absolute path on the node/],
	];
	for (const [field, edit, message] of cases) {
		const errors = errorsOf(edit).filter(e => e.field === field);
		assert.equal(errors.length, 1, `${field}: ${JSON.stringify(errorsOf(edit))}`);
		assert.match(errors[0]!.message, message);
		assert.match(errors[0]!.fix, new RegExp(`absolute path of ${ALLOWED.replaceAll('.', '\\.')} only`));
	}
	// Plain paths, dots inside names and a trailing slash stay valid.
	assert.deepEqual(
		errorsOf(p => {
			p.tls.remoteDir = '/var/lib/plasma-tui/tls.d/v1.2_x/';
			p.install.push.files = [{src: '/etc/hostname', dest: '/etc/plasma/.hidden-file', mode: '0644'}];
			p.checks[1]!.explainLog = '/var/log/etcd.log';
		}),
		[],
	);
});
