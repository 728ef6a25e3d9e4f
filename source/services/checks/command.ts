import {z} from 'zod';
import {fieldError, printable} from '../../model/field-error.js';
import {CheckFailure, defineCheck} from './check-definition.js';
import {attemptTimeoutMs, emptyTextProblems} from './check-helpers.js';

function patternProblems(pattern: string | undefined, at: string) {
	if (pattern === undefined) return [];
	try {
		new RegExp(pattern);
		return [];
	} catch {
		return [fieldError(`${at}.expectOutput`, `"${printable(pattern)}" is not a valid regular expression`, 'fix the pattern or remove it')];
	}
}

// A command run on each node exits as expected and, optionally, prints what is expected.
export const commandCheck = defineCheck({
	type: 'command',
	params: z.strictObject({
		command: z.string(),
		expectExit: z.number().int().default(0),
		expectOutput: z.string().optional(),
	}),
	example: {command: 'etcdctl version', expectOutput: '^etcdctl version'},
	scope: 'node',
	name: spec => `command ${spec.command.slice(0, 30)}`,
	rules: (spec, at) => [...emptyTextProblems(spec.command, `${at}.command`, 'give the command to run on each node'), ...patternProblems(spec.expectOutput, at)],
	async run(spec, {ssh, timeoutMs}) {
		const result = await ssh.exec(spec.command, {timeoutMs: attemptTimeoutMs(timeoutMs)});
		if (result.code !== spec.expectExit) throw new CheckFailure(`exited ${result.code}, expected ${spec.expectExit}: ${result.stderr.trim().slice(0, 120)}`);
		if (spec.expectOutput && !new RegExp(spec.expectOutput).test(result.stdout)) throw new CheckFailure(`output does not match /${spec.expectOutput}/: ${result.stdout.trim().slice(0, 120)}`);
		return `exit ${result.code}`;
	},
});
