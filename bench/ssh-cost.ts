import {performance} from 'node:perf_hooks';
import {planFor} from '../source/commands/common.js';
import {sshTargetFor} from '../source/engine/up.js';
import {readProfileFile} from '../source/services/profiles.js';
import {waitForSsh} from '../source/services/ssh.js';

// What one check would cost with a handshake of its own, against what it costs
// on the session a validation keeps per node: `node --import tsx
// bench/ssh-cost.ts PROFILE_FILE [SAMPLES]` against a running cluster (run by
// bench/vm-session.ts after `up`). Prints "handshake-ms ..." and "exec-ms ...".

const [file, count = '5'] = process.argv.slice(2);
if (!file) throw new Error('usage: node --import tsx bench/ssh-cost.ts PROFILE_FILE [SAMPLES]');
const parsed = await readProfileFile(file);
if (!parsed.ok) throw new Error(`${file}: the profile has problems`);
const plan = planFor(parsed.profile);
const node = plan.nodes[0]!;
const target = sshTargetFor(plan, node);
const samples = Number(count);
const handshakes: number[] = [];
for (let i = 0; i < samples; i++) {
	const started = performance.now();
	const ssh = await waitForSsh(target, {timeoutMs: 30_000});
	const result = await ssh.exec('true', {timeoutMs: 30_000});
	handshakes.push(Math.round(performance.now() - started));
	ssh.close();
	if (result.code !== 0) throw new Error(`"true" exited ${result.code} on ${node.name}`);
}
const ssh = await waitForSsh(target, {timeoutMs: 30_000});
const execs: number[] = [];
for (let i = 0; i < samples; i++) {
	const started = performance.now();
	await ssh.exec('true', {timeoutMs: 30_000});
	execs.push(Math.round(performance.now() - started));
}
ssh.close();
console.log(`node ${node.name}`);
console.log(`handshake-ms ${handshakes.join(' ')}`);
console.log(`exec-ms ${execs.join(' ')}`);
