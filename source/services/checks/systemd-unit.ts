import {z} from 'zod';
import {fieldError, printable} from '../../model/field-error.js';
import {CheckFailure, defineCheck} from './check-definition.js';
import {attemptTimeoutMs, shellQuote} from './check-helpers.js';

// Never a leading dash: systemctl would read the name as an option (-H host).
const UNIT_NAME = /^[A-Za-z0-9:_.@\\][A-Za-z0-9:_.@\\-]{0,254}$/;

// A systemd unit on the node is active.
export const systemdUnitCheck = defineCheck({
	type: 'systemd-unit',
	params: z.strictObject({unit: z.string()}),
	example: {unit: 'etcd.service'},
	scope: 'node',
	name: spec => `unit ${spec.unit}`,
	rules: (spec, at) => (UNIT_NAME.test(spec.unit) ? [] : [fieldError(`${at}.unit`, `"${printable(spec.unit)}" is not a systemd unit name`, 'e.g. etcd.service')]),
	async run(spec, {ssh, timeoutMs}) {
		const result = await ssh.exec(`systemctl is-active ${shellQuote(spec.unit)}`, {timeoutMs: attemptTimeoutMs(timeoutMs)});
		if (result.code !== 0) throw new CheckFailure(`${spec.unit} is ${result.stdout.trim() || 'not active'}`);
		return 'active';
	},
});
