// Issue 10, point 10. On main before this, the run screen kept showing
// preflight's "the demo image is not built yet" after the image stage had built it.
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {render, cleanup} from 'ink-testing-library';
import {applyRunEvents, createRunView} from '../../source/model/run-view.js';
import {PanesScreen} from '../../source/screens/panes-screen.js';
import {recordedEvents} from '../fixtures/run-events.js';

after(() => cleanup());

const NODES = ['node01', 'node02', 'node03'];

test('preflight\'s "not built yet" shows until the image stage is done, then stays in the log as resolved', () => {
	const events = recordedEvents('run-demo-ok', 0);
	const imageDone = events.findIndex(e => e.type === 'stage' && e.stage === 'image' && e.status === 'done');
	assert.ok(imageDone > 0);
	const early = applyRunEvents(createRunView(NODES, 0), events.slice(0, imageDone));
	const frameOf = (view: typeof early) => render(<PanesScreen view={view} now={1000} width={120} height={30} />).lastFrame() ?? '';
	assert.match(frameOf(early), /warn: .*kernel: the demo image is not built yet/);

	const built = applyRunEvents(early, events.slice(imageDone, imageDone + 1));
	assert.doesNotMatch(frameOf(built), /not built yet/);
	const resolved = built.log.toArray().filter(line => line.message.includes('not built yet'));
	assert.equal(resolved.length, 2);
	assert.ok(resolved.every(line => line.level === 'info' && line.message.endsWith(': resolved, image built')), JSON.stringify(resolved));
	// The earlier view is not changed.
	assert.equal(early.log.toArray().filter(line => line.level === 'warn' && line.message.includes('not built yet')).length, 2);
	assert.ok(built.log.toArray().some(line => line.level === 'warn' && line.message.startsWith('TCG:')), 'a warning no stage answers stays');

	const end = applyRunEvents(createRunView(NODES, 0), events);
	assert.doesNotMatch(frameOf(end), /not built yet/);
});

test('a stage that fails resolves nothing, and other warnings stay', () => {
	let view = createRunView(NODES, 0);
	view = applyRunEvents(view, [
		{type: 'log', level: 'warn', message: 'kernel: the demo image is not built yet', resolvedBy: 'image', at: 1},
		{type: 'log', level: 'warn', message: 'TCG: /dev/kvm is not usable', at: 2},
		{type: 'stage', stage: 'image', status: 'failed', message: 'mkfs failed', at: 3},
	]);
	assert.deepEqual(view.log.toArray().map(line => line.level), ['warn', 'warn']);
	view = applyRunEvents(view, [{type: 'stage', stage: 'image', status: 'done', message: 'cached', at: 4}]);
	assert.deepEqual(view.log.toArray().map(line => `${line.level} ${line.message}`), ['info kernel: the demo image is not built yet: resolved, image cached', 'warn TCG: /dev/kvm is not usable']);
});
