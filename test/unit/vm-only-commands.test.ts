import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {execFileSync} from 'node:child_process';
import {onSshHosts} from '../../source/model/ssh-hosts-profile.js';
import {template, tempDir} from '../helpers.js';

// Operations that work through QEMU and the switch refuse a profile of existing machines by name.
const root = path.resolve(import.meta.dirname, '../..');

function runCli(args: string[], home: string): {code: number; stderr: string} {
	try {
		execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'source/cli.tsx'), ...args], {env: {...process.env, PLASMA_TUI_HOME: home}, stdio: 'pipe', cwd: root});
		return {code: 0, stderr: ''};
	} catch (error) {
		const failed = error as {status: number; stderr: Buffer};
		return {code: failed.status, stderr: failed.stderr.toString()};
	}
}

test('stop, start, node, fault, rehearse and snapshot refuse an ssh-hosts profile with the field and a fix; nothing is written', () => {
	const home = tempDir();
	const profile = onSshHosts(template('demo'), {node01: {host: '127.0.0.1', port: 1}, node02: {host: '127.0.0.1', port: 2}, node03: {host: '127.0.0.1', port: 3}}, {});
	const file = path.join(home, 'hosts.json');
	fs.writeFileSync(file, JSON.stringify(profile));
	for (const args of [['stop'], ['start'], ['node', 'stop', 'node01'], ['fault', 'freeze', 'node01'], ['rehearse', 'x.json'], ['snapshot', 'list']]) {
		const result = runCli([...args, '--profile-file', file], home);
		assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
		assert.match(result.stderr, new RegExp(`plasma-tui ${args[0]}.*target\\.kind: profile demo targets existing machines \\(ssh-hosts\\).*\\(fix: rehearse with a VM profile`), args.join(' '));
	}
	assert.equal(fs.existsSync(path.join(home, 'clusters')), false);
});
