import {test, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {render, cleanup} from 'ink-testing-library';
import {RunApp} from '../../source/run-app.js';
import {template} from '../helpers.js';
import {recordedEvents} from '../fixtures/run-events.js';
import {fakeRun} from './fake-run.js';
import {paneText, waitForFrame} from './ink-helpers.js';

afterEach(() => cleanup());

test("a node's pane shows the faults active on it, and drops them once healed", async () => {
	const run = fakeRun(recordedEvents('run-demo-stall'));
	let markers: Record<string, string[]> = {node02: ['frozen'], node03: ['isolated', 'delay 200ms']};
	run.services.faultMarkers = async () => markers;
	const {lastFrame} = render(<RunApp profile={template()} services={run.services} onExit={() => undefined} options={{tickMs: 20}} />);
	await waitForFrame(lastFrame, f => f.includes('[frozen]') && f.includes('delay 200ms'), 'the fault markers');
	const frame = lastFrame()!;
	assert.match(paneText(frame, 'node02'), /node02 .*\[frozen\]/);
	assert.match(paneText(frame, 'node03'), /\[isolated, delay 200ms\]/);
	assert.doesNotMatch(paneText(frame, 'node01'), /\[(frozen|isolated)/);
	markers = {};
	await waitForFrame(lastFrame, f => !f.includes('[frozen]'), 'the markers gone after heal (next read, 2 s)', 5000);
});
