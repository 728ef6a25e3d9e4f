// Issue 10, point 7. On main before this, a failed push command's reason was its
// output from the top ("exited 1: ... I | etcdmain: etcd Version ... | I | embed:
// heartbeat = 100ms | ..."): a pane cut it off before the cause, which etcd writes last
// ("C | etcdmain: couldn't find local name ...").
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {render, cleanup} from 'ink-testing-library';
import {failureReason} from '../../source/model/failure-reason.js';
import {applyRunEvents, createRunView} from '../../source/model/run-view.js';
import {PanesScreen} from '../../source/screens/panes-screen.js';
import {formatReport, validateCluster} from '../../source/engine/validation.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {installNode} from '../../source/services/install.js';
import {NodeSsh} from '../../source/services/ssh.js';
import {planIn, skipUnless, tempDir, template} from '../helpers.js';
import {sshdForPlan, sshdPrerequisites, type LocalSshd} from '../local-sshd.js';

const CAUSE = `C | etcdmain: couldn't find local name "node04" in the initial cluster configuration`;
const ETCD_STDERR = [
	'2026-12-01 10:00:00.101010 I | etcdmain: etcd Version: 3.4.23',
	'2026-12-01 10:00:00.101020 I | embed: heartbeat = 100ms',
	'2026-12-01 10:00:00.101030 I | embed: election = 1000ms',
	'2026-12-01 10:00:00.101040 W | etcdmain: no data-dir provided, using default data-dir',
	`2026-12-01 10:00:00.101050 ${CAUSE}`,
].join('\n');

test('the cause is the last line at error level, stderr before stdout, timestamps dropped', () => {
	assert.equal(failureReason({stderr: ETCD_STDERR}), `${CAUSE} (before: W | etcdmain: no data-dir provided, using default data-dir; I | embed: election = 1000ms)`);
	// An error line wins over later chatter; the chatter is not the cause.
	assert.equal(failureReason({stderr: 'starting\nE | rafthttp: failed to dial\nI | shutting down\nI | bye'}, 1), 'E | rafthttp: failed to dial');
	// JSON logs (etcd 3.5) and plain "error:" lines.
	assert.match(failureReason({stderr: '{"level":"info","msg":"starting"}\n{"level":"fatal","msg":"discovery failed"}\n{"level":"info","msg":"exit"}'}, 1), /"level":"fatal"/);
	assert.equal(failureReason({stderr: 'a\nerror: no such file\nb'}, 1), 'error: no such file');
	// stdout counts only when stderr said nothing; nothing at all says so.
	assert.equal(failureReason({stderr: 'the real reason', stdout: 'error: a decoy on stdout'}), 'the real reason');
	assert.equal(failureReason({stderr: '\n \n', stdout: 'one\ntwo'}, 1), 'two');
	assert.equal(failureReason({stderr: '', stdout: ''}), 'no output');
});

const skip = skipUnless(await sshdPrerequisites());

describe('a failed push command against a real sshd', {skip}, () => {
	const dir = tempDir('plasma-reason-');
	let sshd: LocalSshd;
	let ssh: NodeSsh;
	const setup = () => {
		const profile = template('demo');
		profile.workDir = path.join(dir, 'work');
		profile.tls.remoteDir = path.join(dir, 'remote', 'secrets');
		profile.install.push.files = [];
		profile.install.push.commands = [`printf '%s\\n' 'starting on stdout'; printf '%s\\n' ${ETCD_STDERR.split('\n').map(line => `'${line.replaceAll("'", `'\\''`)}'`).join(' ')} >&2; exit 1`];
		return {profile, plan: planIn(dir, profile)};
	};

	before(async () => {
		const {plan} = setup();
		await writeArtifacts(plan);
		({sshd, ssh} = await sshdForPlan(plan));
	});

	after(async () => {
		cleanup();
		ssh?.close();
		await sshd?.stop();
	});

	test('its reason starts with the cause, in the pane and in the report', async () => {
		const {profile, plan} = setup();
		const node = plan.nodes[0]!;
		const error = await installNode({plan, node, ssh, hostsFile: path.join(dir, 'hosts'), onLine: () => undefined}).then(
			() => assert.fail('the install should fail'),
			(caught: unknown) => caught as Error,
		);
		assert.match(error.message, new RegExp(`^install\\.push\\.commands\\[0\\] exited 1: ${CAUSE.replace(/[|.]/g, '\\$&')}`));

		// The pane: the engine's node-phase reason is this message; the cause is on the pane's first rows.
		const view = applyRunEvents(createRunView([node.name], 0), [{type: 'node-phase', node: node.name, phase: 'failed', reason: error.message, at: 1}]);
		const pane = render(<PanesScreen view={view} now={2} width={70} height={12} />);
		assert.match((pane.lastFrame() ?? '').replace(/[\s│╭╮╰╯─]+/g, ' '), /couldn't find local name "node04"/);

		// The report (and status, which prints the same state reason).
		const only = {...plan, nodes: [node]};
		const report = await validateCluster(profile, only, {connections: new Map(), checks: [{type: 'ssh', timeoutSec: 1}], notRun: {[node.name]: error.message}, onEvent: () => undefined});
		const text = await fs.readFile(plan.report.text, 'utf8');
		assert.equal(text, formatReport(report));
		assert.match(text, new RegExp(`\\[not run\\] node01 +ssh: install\\.push\\.commands\\[0\\] exited 1: C \\| etcdmain: couldn't find local name`));
	});
});
