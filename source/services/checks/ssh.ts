import {z} from 'zod';
import {CheckFailure, defineCheck} from './check-definition.js';
import {attemptTimeoutMs} from './check-helpers.js';

// The node answers over SSH with the host key pinned in the profile.
export const sshCheck = defineCheck({
	type: 'ssh',
	params: z.strictObject({}),
	example: {},
	scope: 'node',
	name: spec => spec.type,
	async run(_spec, {ssh, timeoutMs}) {
		const result = await ssh.exec('true', {timeoutMs: attemptTimeoutMs(timeoutMs)});
		if (result.code !== 0) throw new CheckFailure(`"true" exited ${result.code}`);
		return `host key ${ssh.hostKey}`;
	},
});
