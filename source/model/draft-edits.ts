import type {KeyType, NodeRole, Profile} from './profile-schema.js';
import {MAX_NODES} from './profile-rules.js';
import {withNodeCount} from './resolve.js';
import {type FieldError, fieldError, printable, type Problem} from './field-error.js';

// Pure edits of a draft profile, one per wizard field. Screens call these
// through the app; the profile stays the single source of truth. Text that
// cannot be applied comes back as a Problem and leaves the profile as it was.

export const KEY_TYPES: KeyType[] = ['ecdsa-p256', 'rsa-2048', 'rsa-4096'];
export const KEY_TYPE_LABELS: Record<KeyType, string> = {'ecdsa-p256': 'ECDSA P-256', 'rsa-2048': 'RSA 2048', 'rsa-4096': 'RSA 4096'};
const ROLES: NodeRole[] = ['control-plane', 'worker'];

export type NodeCell = 'ip' | 'mac' | 'hostname' | 'sshPort';

// Whole numbers typed as text; anything else is reported by the caller.
export function parseWholeNumber(text: string): number | undefined {
	return /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

export function setNodeCount(profile: Profile, text: string): Profile | Problem {
	const count = parseWholeNumber(text);
	if (count === undefined || count < 1 || count > MAX_NODES) return {message: `node count must be a number from 1 to ${MAX_NODES}`};
	return withNodeCount(profile, count);
}

export function setNodeName(profile: Profile, index: number, name: string): Profile {
	const nodes = profile.nodes.map((n, i) => (i === index ? {...n, name} : n));
	return {...profile, nodes};
}

export function cycleRole(profile: Profile, index: number): Profile {
	const nodes = profile.nodes.map((n, i) => (i === index ? {...n, role: ROLES[(ROLES.indexOf(n.role) + 1) % ROLES.length]!} : n));
	return {...profile, nodes};
}

// An empty value clears the override: the cell goes back to auto-assignment.
export function setNodeCell(profile: Profile, index: number, cell: NodeCell, text: string): Profile | Problem {
	const value = text.trim();
	let update: string | number | undefined = value === '' ? undefined : value;
	if (cell === 'sshPort' && value !== '') {
		update = parseWholeNumber(value);
		if (update === undefined) return {field: `nodes[${index}].sshPort`, message: `"${value}" is not a number`};
	}
	if (cell === 'mac' && typeof update === 'string') update = update.toLowerCase();
	const nodes = profile.nodes.map((n, i) => {
		if (i !== index) return n;
		const copy = {...n};
		if (update === undefined) delete copy[cell];
		else (copy as Record<string, unknown>)[cell] = update;
		return copy;
	});
	return {...profile, nodes};
}

export function cycleKeyType(profile: Profile, direction: 1 | -1): Profile {
	const next = KEY_TYPES[(KEY_TYPES.indexOf(profile.tls.keyType) + direction + KEY_TYPES.length) % KEY_TYPES.length]!;
	return {...profile, tls: {...profile.tls, keyType: next}};
}

export function setValidityDays(profile: Profile, text: string): Profile | Problem {
	const days = parseWholeNumber(text);
	if (days === undefined) return {field: 'tls.validityDays', message: `"${text}" is not a number of days`};
	return {...profile, tls: {...profile.tls, validityDays: days}};
}

export function setExistingCa(profile: Profile, part: 'cert' | 'key', text: string): Profile {
	const current = profile.tls.existingCa ?? {cert: '', key: ''};
	const next = {...current, [part]: text.trim()};
	const tls = {...profile.tls};
	if (next.cert === '' && next.key === '') delete tls.existingCa;
	else tls.existingCa = next;
	return {...profile, tls};
}

export type CheckCell = 'port' | 'timeoutSec';

// A check's port or timeout typed as text. A number is set even when out of
// range (validation names the field then); text that is no number is returned
// as the field's error and leaves the profile as it was.
export function setCheckCell(profile: Profile, index: number, cell: CheckCell, text: string): Profile | FieldError {
	const field = `checks[${index}].${cell}`;
	const check = profile.checks[index];
	if (!check) return fieldError(field, 'there is no such check', 'choose a check from the list');
	if (cell === 'port' && !('port' in check)) return fieldError(field, `a ${check.type} check has no port`, 'edit the timeout instead');
	const value = parseWholeNumber(text);
	if (value === undefined) {
		const shown = text.trim() === '' ? 'an empty value' : `"${printable(text.trim())}"`;
		return cell === 'port'
			? fieldError(field, `${shown} is not a TCP port`, 'use a port from 1 to 65535')
			: fieldError(field, `${shown} is not a number of seconds`, 'set timeoutSec to 1 or more');
	}
	const checks = profile.checks.map((c, i) => (i === index ? {...c, [cell]: value} : c));
	return {...profile, checks};
}
