import type {CheckSpec, Profile} from './profile-schema.js';
import {type FieldError, fieldError, printable} from './field-error.js';

// Check parameters go into HTTP request lines, systemctl arguments and regular
// expressions: each is checked here so a bad one is a field error, not a
// check that fails (or throws) minutes into a run.

const URL_PATH = /^\/[\x21-\x7e]*$/;
// Never a leading dash: systemctl would read the name as an option (-H host).
const UNIT_NAME = /^[A-Za-z0-9:_.@\\][A-Za-z0-9:_.@\\-]{0,254}$/;

function checkProblems(check: CheckSpec, at: string): FieldError[] {
	const errors: FieldError[] = [];
	if (check.timeoutSec < 1) errors.push(fieldError(`${at}.timeoutSec`, `${check.timeoutSec} s is not a usable timeout`, 'set timeoutSec to 1 or more'));
	if ('port' in check && (check.port < 1 || check.port > 65535)) {
		errors.push(fieldError(`${at}.port`, `${check.port} is not a TCP port`, 'use a port from 1 to 65535'));
	}
	if ((check.type === 'http' || check.type === 'metrics') && !URL_PATH.test(check.path)) {
		errors.push(fieldError(`${at}.path`, `"${printable(check.path)}" is not a URL path`, 'start it with / and use no spaces or control characters, e.g. /health'));
	}
	if (check.type === 'systemd-unit' && !UNIT_NAME.test(check.unit)) {
		errors.push(fieldError(`${at}.unit`, `"${printable(check.unit)}" is not a systemd unit name`, 'e.g. etcd.service'));
	}
	if (check.type === 'command' && check.command.trim() === '') errors.push(fieldError(`${at}.command`, 'is empty', 'give the command to run on each node'));
	if (check.type === 'persistence' && check.restartCommand.trim() === '') {
		errors.push(fieldError(`${at}.restartCommand`, 'is empty', 'give the command that restarts the service, e.g. systemctl restart etcd'));
	}
	if (check.type === 'command' && check.expectOutput !== undefined) {
		try {
			new RegExp(check.expectOutput);
		} catch {
			errors.push(fieldError(`${at}.expectOutput`, `"${printable(check.expectOutput)}" is not a valid regular expression`, 'fix the pattern or remove it'));
		}
	}
	return errors;
}

export function validateChecks(profile: Profile): FieldError[] {
	return profile.checks.flatMap((check, index) => checkProblems(check, `checks[${index}]`));
}
