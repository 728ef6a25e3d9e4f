import type {NodePlan, Plan} from '../model/plan.js';
import {ProblemError} from '../model/field-error.js';
import {hostConsoleCommand} from '../model/ssh-hosts-plan.js';
import {hostTarget} from './ssh-hosts-preflight.js';
import {NodeSsh, pinnedKeyFor} from './ssh.js';

// The console of an existing machine: its log over SSH (a file the profile
// names, or the journal), line by line, until the signal ends a follow.
export async function followHostLog(plan: Plan, node: NodePlan, options: {follow: boolean; onLine: (line: string) => void; signal?: AbortSignal}): Promise<number | null> {
	if (plan.target.kind !== 'ssh-hosts') throw new Error('followHostLog is for target ssh-hosts');
	const target = hostTarget(plan, node);
	if (!(await pinnedKeyFor(target))) throw new ProblemError({message: `${node.name}: no host key is pinned for ${target.host}:${target.port}`, fix: 'run up (with --accept-new-host-keys the first time) or add it to ssh.hostKeys'});
	const ssh = await NodeSsh.connect(target, {timeoutMs: plan.target.connectTimeoutSec * 1000, signal: options.signal});
	try {
		const result = await ssh.exec(hostConsoleCommand(plan.target, options.follow), {signal: options.signal, onLine: line => options.onLine(line), timeoutMs: options.follow ? undefined : 30_000}).catch(error => {
			if (options.signal?.aborted) return {code: 0};
			throw error;
		});
		return result.code;
	} finally {
		ssh.close();
	}
}
