import type {Profile} from './profile-schema.js';
import {type FieldError, fieldError, fieldPath, printable} from './field-error.js';

// Every string of a profile ends up somewhere it can hurt: a path handed to fs
// or QEMU (a NUL makes them throw), a kernel command line, a line on the
// operator's terminal (an escape sequence redraws the screen). Free text may
// hold newlines and tabs; no other field may hold a control character.

const FREE_TEXT = /^(description|install\.push\.commands\[\d+\](\.run)?|checks\[\d+\]\.(command|restartCommand))$/;
const NOT_ON_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
const NOT_IN_FREE_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f]/;

// Linux: PATH_MAX 4096 with its NUL, NAME_MAX 255 (bytes, not characters).
const MAX_PATH_BYTES = 4095;
const MAX_NAME_BYTES = 255;

function describeChar(char: string): string {
	if (char === '\u0000') return 'a NUL character';
	if (char === '\n' || char === '\r') return 'a line break';
	return `the invisible character ${printable(char)}`;
}

function checkText(field: string, value: string, errors: FieldError[]): void {
	const free = FREE_TEXT.test(field);
	const bad = (free ? NOT_IN_FREE_TEXT : NOT_ON_ONE_LINE).exec(value);
	if (!bad) return;
	errors.push(
		fieldError(
			field,
			`"${printable(value)}" contains ${describeChar(bad[0])} at position ${bad.index}`,
			free ? 'remove it; commands and descriptions may hold only printable text, tabs and newlines' : 'remove it; this field takes printable text on one line',
		),
	);
}

function visit(value: unknown, path: Array<string | number>, errors: FieldError[]): void {
	if (typeof value === 'string') checkText(fieldPath(path), value, errors);
	else if (Array.isArray(value)) value.forEach((item, index) => visit(item, [...path, index], errors));
	else if (typeof value === 'object' && value !== null) {
		for (const [key, item] of Object.entries(value)) {
			if (NOT_ON_ONE_LINE.test(key)) checkText(fieldPath(path), key, errors);
			visit(item, [...path, key], errors);
		}
	}
}

// Control characters anywhere; fields already reported by a sharper check are skipped.
export function textProblems(profile: Profile, reported: ReadonlySet<string>): FieldError[] {
	const errors: FieldError[] = [];
	visit(profile, [], errors);
	return errors.filter(error => !reported.has(error.field));
}

type PathKind = 'absolute' | 'any' | 'remote';

function pathFields(profile: Profile): Array<[string, string | undefined, PathKind]> {
	return [
		['workDir', profile.workDir, 'absolute'],
		['network.vdeSocket', profile.network.vdeSocket, 'absolute'],
		['ssh.keyPath', profile.ssh.keyPath, 'any'],
		['boot.kernel', profile.boot.kernel, 'any'],
		['boot.initrd', profile.boot.initrd, 'any'],
		['boot.iso', profile.boot.iso, 'any'],
		['boot.diskImage', profile.boot.diskImage, 'any'],
		['tls.existingCa.cert', profile.tls.existingCa?.cert, 'any'],
		['tls.existingCa.key', profile.tls.existingCa?.key, 'any'],
		// Paths on the node: they reach a shell there ({secretsDir}, `tail`, upload targets).
		['tls.remoteDir', profile.tls.remoteDir, 'remote'],
		...profile.checks.map((check, index): [string, string | undefined, PathKind] => [`checks[${index}].explainLog`, check.explainLog || undefined, 'remote']),
		...profile.install.push.files.flatMap((file, index): Array<[string, string, PathKind]> => [
			[`install.push.files[${index}].src`, file.src, 'any'],
			[`install.push.files[${index}].dest`, file.dest, 'remote'],
		]),
	];
}

// A path on the node is quoted wherever the tool puts it in a command, but a
// profile author's own command may use it unquoted (sh -c 'ls {secretsDir}'):
// only characters that mean nothing to a shell, absolute (never an option), no "..".
export const REMOTE_PATH_CHARS = 'A-Z a-z 0-9 . _ / -';

export function remotePathProblem(value: string): string | undefined {
	if (!value.startsWith('/')) return `"${printable(value)}" is not an absolute path on the node`;
	const bad = /[^A-Za-z0-9._/-]/u.exec(value);
	if (bad) return `"${printable(value)}" has ${bad[0] === ' ' ? 'a space' : `the character ${printable(bad[0])}`} at position ${bad.index}; a path on the node may hold only ${REMOTE_PATH_CHARS}`;
	if (value.split('/').includes('..')) return `"${printable(value)}" has a ".." part`;
	return undefined;
}

// Paths the host or the node will open: absolute where a relative one would
// depend on the directory the tool was started in, and short enough to open.
export function pathProblems(profile: Profile): FieldError[] {
	const errors: FieldError[] = [];
	for (const [field, value, kind] of pathFields(profile)) {
		if (value === undefined) continue;
		const remote = kind === 'remote' ? remotePathProblem(value) : undefined;
		if (remote) {
			errors.push(fieldError(field, remote, `write an absolute path of ${REMOTE_PATH_CHARS} only, without "..", e.g. /etc/plasma/secrets`));
		} else if (value === '') continue;
		else if (kind === 'absolute' && !value.startsWith('/')) {
			errors.push(fieldError(field, `"${printable(value)}" is not an absolute path`, 'write it from the root, e.g. a directory of your own under your home directory such as /home/you/plasma'));
		} else if (Buffer.byteLength(value) > MAX_PATH_BYTES) {
			errors.push(fieldError(field, `the path is ${Buffer.byteLength(value)} bytes long`, `use a path of at most ${MAX_PATH_BYTES} bytes`));
		} else if (value.split('/').some(part => Buffer.byteLength(part) > MAX_NAME_BYTES)) {
			errors.push(fieldError(field, `"${printable(value)}" has a name longer than ${MAX_NAME_BYTES} bytes`, `keep each part of the path to ${MAX_NAME_BYTES} bytes`));
		}
	}
	return errors;
}
