import {test} from 'node:test';
import assert from 'node:assert/strict';
import {generateKeyPairSync} from 'node:crypto';
import {spawnSync} from 'node:child_process';
import {readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {formatProblem, formatProblems, ProblemError, problemOf} from '../../source/model/field-error.js';
import {setNodeCell, setNodeCount, setValidityDays} from '../../source/model/draft-edits.js';
import {createCa} from '../../source/services/tls.js';
import {template, tempDir} from '../helpers.js';

test('a problem prints as field: message (fix: fix), leaving out what it does not have', () => {
	assert.equal(formatProblem({field: 'nodes[0].ip', message: 'is taken', fix: 'choose another'}), 'nodes[0].ip: is taken (fix: choose another)');
	assert.equal(formatProblem({field: 'nodes[0].ip', message: 'is taken'}), 'nodes[0].ip: is taken');
	assert.equal(formatProblem({message: 'nix is not on the PATH', fix: 'install Nix'}), 'nix is not on the PATH (fix: install Nix)');
	assert.equal(formatProblem({message: 'QMP: connection closed'}), 'QMP: connection closed');
	assert.equal(formatProblems([{message: 'one'}, {field: 'two', message: 'bad', fix: 'mend'}]), 'one\ntwo: bad (fix: mend)');
});

test('problemOf keeps the field and fix of a ProblemError, and reads any other caught value', () => {
	const thrown = new ProblemError({field: 'tls.existingCa.key', message: 'does not belong to the CA', fix: 'pair them'});
	assert.ok(thrown instanceof Error);
	assert.equal(thrown.message, 'tls.existingCa.key: does not belong to the CA (fix: pair them)', 'code that prints error.message shows the whole problem');
	assert.deepEqual(problemOf(thrown), {field: 'tls.existingCa.key', message: 'does not belong to the CA', fix: 'pair them'});
	assert.deepEqual(problemOf(new Error('connection refused')), {message: 'connection refused'});
	assert.deepEqual(problemOf('aborted'), {message: 'aborted'});
	assert.deepEqual(problemOf(42), {message: '42'});
	assert.deepEqual(problemOf(undefined), {message: 'undefined'});
	const cause = new Error('ENOSPC');
	assert.equal(new ProblemError({message: 'cannot write'}, {cause}).cause, cause);
});

test('draft edits return a problem, never a bare string, and print the text the wizard showed', () => {
	const profile = template();
	const count = setNodeCount(profile, '17');
	assert.ok('message' in count);
	assert.equal(formatProblem(count), 'node count must be a number from 1 to 16');
	const port = setNodeCell(profile, 0, 'sshPort', '22;reboot');
	assert.ok('message' in port);
	assert.deepEqual(port, {field: 'nodes[0].sshPort', message: '"22;reboot" is not a number'});
	assert.equal(formatProblem(port), 'nodes[0].sshPort: "22;reboot" is not a number');
	const days = setValidityDays(profile, 'soon');
	assert.deepEqual(days, {field: 'tls.validityDays', message: '"soon" is not a number of days'});
	assert.ok(!('message' in setValidityDays(profile, '30')));
});

test('the certs command prints a TLS problem with the one formatter', async () => {
	const home = tempDir();
	const own = await createCa('CN=Operator CA', 'ecdsa-p256', 30);
	const certFile = path.join(home, 'ca.pem');
	const keyFile = path.join(home, 'other.pem');
	writeFileSync(certFile, own.certPem);
	writeFileSync(keyFile, generateKeyPairSync('ec', {namedCurve: 'prime256v1'}).privateKey.export({type: 'pkcs8', format: 'pem'}));
	const profile = template();
	profile.tls.existingCa = {cert: certFile, key: keyFile};
	const profileFile = path.join(home, 'profile.json');
	writeFileSync(profileFile, JSON.stringify(profile));
	const result = spawnSync(process.execPath, ['--import', 'tsx', 'source/cli.tsx', 'certs', '--profile-file', profileFile], {env: {...process.env, PLASMA_TUI_HOME: home}, encoding: 'utf8'});
	assert.equal(result.status, 1, result.stderr);
	assert.equal(result.stderr.trim(), `plasma-tui certs: ${formatProblem({field: 'tls.existingCa.key', message: `${keyFile} does not belong to ${certFile}`, fix: 'pair the CA certificate with its own key'})}`);
});

function sourceFiles(dir: string): string[] {
	return readdirSync(dir).flatMap(entry => {
		const file = path.join(dir, entry);
		return statSync(file).isDirectory() ? sourceFiles(file) : /\.tsx?$/.test(entry) ? [file] : [];
	});
}

test('only the formatter writes "(fix:", nobody casts a caught value to read its fix, and ProblemError is the one Error class', () => {
	const root = path.resolve('source');
	const formatter = path.join(root, 'model', 'field-error.ts');
	const offenders: string[] = [];
	for (const file of sourceFiles(root)) {
		const lines = readFileSync(file, 'utf8').split('\n');
		lines.forEach((line, index) => {
			const where = `${path.relative(root, file)}:${index + 1}: ${line.trim()}`;
			if (file !== formatter && line.includes('(fix:')) offenders.push(where);
			if (/as \{\s*(fix|field)\?/.test(line)) offenders.push(where);
			if (file !== formatter && /extends Error\b/.test(line)) offenders.push(where);
		});
	}
	assert.deepEqual(offenders, []);
});
