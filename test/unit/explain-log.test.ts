// Issue 10, point 9. On main before this, a check whose explainLog file did not
// exist on the node was explained by the console's last line ("console: / #")
// without a word about the missing log.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {validateCluster} from '../../source/engine/validation.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {NodeSsh} from '../../source/services/ssh.js';
import {planIn, skipUnless, tempDir, template} from '../helpers.js';
import {sshdForPlan, sshdPrerequisites, type LocalSshd} from '../local-sshd.js';

const skip = skipUnless(await sshdPrerequisites());

describe('the line that explains a failed check, from a real sshd', {skip}, () => {
	const dir = tempDir('plasma-explain-');
	const missing = path.join(dir, 'var', 'log', 'etcd.log');
	const present = path.join(dir, 'present.log');
	let sshd: LocalSshd;
	let ssh: NodeSsh;
	const setup = (explainLog: string) => {
		const profile = template('demo');
		profile.workDir = path.join(dir, 'work');
		profile.checks = [{type: 'command', name: 'etcd up', command: 'exit 1', expectExit: 0, timeoutSec: 1, explainLog}];
		return {profile, plan: planIn(dir, profile)};
	};
	const explain = async (explainLog: string) => {
		const {profile, plan} = setup(explainLog);
		const node = plan.nodes[0]!;
		const report = await validateCluster(profile, plan, {connections: new Map([[node.name, ssh]]), onEvent: () => undefined});
		return report.results.find(result => result.node === node.name)?.logLine;
	};

	before(async () => {
		const {plan} = setup(missing);
		await writeArtifacts(plan);
		await fs.mkdir(path.dirname(plan.nodes[0]!.runtime.consoleLog), {recursive: true});
		await fs.writeFile(plan.nodes[0]!.runtime.consoleLog, 'plasma-ready node01 192.168.100.11\n/ # \n');
		await fs.writeFile(present, 'etcd starting\nC | etcdmain: member count is unequal\n');
		({sshd, ssh} = await sshdForPlan(plan));
	});

	after(async () => {
		ssh?.close();
		await sshd?.stop();
	});

	test('a missing explainLog is named with the node, then the console line follows', async () => {
		assert.equal(await explain(missing), `explainLog ${missing} does not exist on node01; console: / #`);
	});

	test('an explainLog that exists gives its last line', async () => {
		assert.equal(await explain(present), `${present}: C | etcdmain: member count is unequal`);
	});

	test('an empty explainLog says so too', async () => {
		const empty = path.join(dir, 'empty.log');
		await fs.writeFile(empty, '');
		assert.equal(await explain(empty), `explainLog ${empty} on node01 is empty; console: / #`);
	});
});
