// Issue 9, point 10. On main before this, only console lines were cleaned: a
// node whose install command or check printed `\e]0;pwned\a` (a window title)
// and `\e[2J` (a screen clear) had them reach the plain lines (formatEventLine),
// the pane's failure reason and the report file raw.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {render, cleanup} from 'ink-testing-library';
import {formatEventLine, printableEvent, type RunEvent} from '../../source/model/events.js';
import {printableLine} from '../../source/model/printable.js';
import {applyRunEvents, createRunView} from '../../source/model/run-view.js';
import {PanesScreen} from '../../source/screens/panes-screen.js';
import {validateCluster} from '../../source/engine/validation.js';
import {writeArtifacts} from '../../source/services/artifacts.js';
import {installNode} from '../../source/services/install.js';
import {NodeSsh} from '../../source/services/ssh.js';
import {planIn, skipUnless, tempDir, template} from '../helpers.js';
import {sshdForPlan, sshdPrerequisites, type LocalSshd} from '../local-sshd.js';

// What a hostile guest prints around the visible words.
const HOSTILE = String.raw`printf 'visible-before\033]0;pwned\007\033[2Jvisible-after\n'`;
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
// Ink's own colours are the only escapes a frame may hold.
const withoutInkColours = (frame: string) => frame.replace(/\u001B\[[0-9;]*m/g, '');

test('printableLine drops whole title strings, CSI in 7 and 8 bits, C1 controls and forged line breaks', () => {
	assert.equal(printableLine('a\u001B]0;pwned\u0007b'), 'ab');
	assert.equal(printableLine('a\u001B]2;pwned\u001B\\b'), 'ab');
	assert.equal(printableLine('a\u001B[2Jb\u009B31mc'), 'abc');
	assert.equal(printableLine('a\u001BPq#0;1\u001B\\b'), 'ab');
	assert.equal(printableLine('ok\nnode02: healthy'), 'ok node02: healthy', 'a guest cannot start a line of its own');
	assert.equal(printableLine('tab\tand ünïcødé ☃'), 'tab\tand ünïcødé ☃');
	const event = {type: 'log', level: 'warn', message: 'x\u0007y', at: 1} as const;
	assert.deepEqual(printableEvent(event), {...event, message: 'xy'});
	const clean = {type: 'console', node: 'node01', line: 'fine', at: 1} as const;
	assert.equal(printableEvent(clean), clean, 'clean events are not copied');
});

const skip = skipUnless(await sshdPrerequisites());

describe('guest text from a real sshd reaches no terminal raw', {skip}, () => {
	const dir = tempDir('plasma-guest-text-');
	let sshd: LocalSshd;
	let ssh: NodeSsh;

	const setup = () => {
		const profile = template('demo');
		profile.workDir = path.join(dir, 'work');
		profile.tls.remoteDir = path.join(dir, 'remote', 'secrets');
		profile.install.push.files = [];
		// Prints the escapes on stdout and stderr, then fails: output lines, the failure reason.
		profile.install.push.commands = [`${HOSTILE}; ${HOSTILE} >&2; exit 1`];
		profile.checks = [{type: 'command', name: 'hostile', command: `${HOSTILE} >&2; exit 3`, expectExit: 0, timeoutSec: 1, explainLog: path.join(dir, 'guest.log')}];
		return {profile, plan: planIn(dir, profile)};
	};

	before(async () => {
		const {plan} = setup();
		await writeArtifacts(plan);
		await fs.writeFile(path.join(dir, 'guest.log'), 'started\nvisible-before\u001B]0;pwned\u0007\u001B[2Jvisible-after\n');
		({sshd, ssh} = await sshdForPlan(plan));
	});

	after(async () => {
		cleanup();
		ssh?.close();
		await sshd?.stop();
	});

	test('install output, the failure reason, check details and the report are shown without escapes', async () => {
		const {profile, plan} = setup();
		const node = plan.nodes[0]!;
		const events: RunEvent[] = [];
		// As the engine reports an install: its output lines, then the node's failure reason.
		const error = await installNode({plan, node, ssh, hostsFile: path.join(dir, 'hosts'), onLine: line => events.push({type: 'install-output', node: node.name, line, at: 1})}).then(
			() => assert.fail('the install should fail'),
			(caught: unknown) => caught as Error,
		);
		assert.match(error.message, /exited 1/);
		events.push({type: 'node-phase', node: node.name, phase: 'failed', reason: error.message, at: 2});
		assert.ok(events.some(e => e.type === 'install-output' && e.line.includes('\u001B]0;pwned')), 'the guest did send the escapes');

		const report = await validateCluster(profile, plan, {connections: new Map([[node.name, ssh]]), onEvent: event => events.push(event)});
		assert.equal(report.ok, false);
		const checkFailed = events.find(e => e.type === 'check' && e.node === node.name && e.status === 'failed');
		assert.match(JSON.stringify(checkFailed), /\\u001b\]0;pwned/, 'the check detail did carry the escapes');

		// Plain lines (up, validate).
		const lines = events.map(formatEventLine).filter((line): line is string => line !== undefined);
		for (const line of lines) assert.doesNotMatch(line, CONTROL, JSON.stringify(line));
		assert.ok(lines.some(line => line.includes('visible-beforevisible-after')), lines.join('\n'));
		assert.ok(lines.some(line => /node01: failed: .*visible-beforevisible-after/.test(line)), lines.join('\n'));

		// The report files.
		const text = await fs.readFile(plan.report.text, 'utf8');
		assert.doesNotMatch(text.replace(/\n/g, ''), CONTROL);
		assert.match(text, /visible-beforevisible-after/);
		assert.doesNotMatch(await fs.readFile(plan.report.json, 'utf8'), /\\u001b|\\u0007/i);

		// The screen: the pane of the failed node.
		const view = applyRunEvents(createRunView([node.name], 0), events);
		assert.match(view.nodes[node.name]!.reason!, /visible-beforevisible-after/);
		const panes = render(<PanesScreen view={view} now={3} width={120} height={20} />);
		const frame = withoutInkColours(panes.lastFrame() ?? '');
		assert.doesNotMatch(frame.replace(/\n/g, ''), CONTROL);
		assert.match(frame, /visible-before/);
	});
});
