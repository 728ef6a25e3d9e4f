import {test} from 'node:test';
import assert from 'node:assert/strict';
import {applyRunEvents, createRunView} from '../../source/model/run-view.js';
import {STAGES, stagesFor} from '../../source/model/stages.js';
import {formatEventLine} from '../../source/model/events.js';
import {recordedEvents, type RunFixture} from '../fixtures/run-events.js';
import {planIn, tempDir, template} from '../helpers.js';

// The recorded runs (test/fixtures) are what the engine emits for the demo profile.
const FULL_RUNS: RunFixture[] = ['run-demo-ok', 'run-demo-checks-failed'];

for (const fixture of FULL_RUNS) {
	test(`${fixture}: the engine emits exactly the stages the plan lists, in its order`, () => {
		const plan = planIn(tempDir(), template('demo'));
		const events = recordedEvents(fixture, 0);
		const emitted = new Set(events.flatMap(e => (e.type === 'stage' ? [e.stage] : [])));
		assert.deepEqual([...emitted].sort(), [...plan.stages].sort());
		const view = applyRunEvents(createRunView(['node01', 'node02', 'node03'], 0), events);
		assert.deepEqual(
			view.stages.map(s => s.name),
			plan.stages,
		);
	});
}

test('the install stage ends once every node is installed, after boot ended on the last ssh-ready', () => {
	const events = recordedEvents('run-demo-ok', 0);
	const lines = events.map(formatEventLine);
	const index = (line: string) => lines.indexOf(line);
	assert.ok(index('[install] start') < index('node01: installing'));
	assert.ok(index('node03: ssh-ready') < index('[boot] done: 3 nodes ssh-ready'));
	assert.ok(index('node03: installed') < index('[install] done: 3 nodes installed'));
	assert.ok(index('[install] done: 3 nodes installed') < index('[validate] start'));
});

test("a profile's stages: image or nix build, install unless none, validate only with checks", () => {
	const demo = template('demo');
	assert.deepEqual(stagesFor(demo, {nixBuild: false}), ['preflight', 'image', 'certificates', 'boot', 'install', 'validate']);
	demo.install.method = 'none';
	demo.checks = [];
	demo.boot.image = 'custom';
	assert.deepEqual(stagesFor(demo, {nixBuild: false}), ['preflight', 'certificates', 'boot']);
	demo.boot.image = 'nix';
	assert.deepEqual(stagesFor(demo, {nixBuild: true}), ['preflight', 'nix build', 'certificates', 'boot']);
	// Kernel and initrd given by path: nothing to build, so no stage the engine would never start.
	assert.deepEqual(stagesFor(demo, {nixBuild: false}), ['preflight', 'certificates', 'boot']);
	const plasmacloud = planIn(tempDir(), template('plasmacloud-3node'));
	assert.ok(plasmacloud.stages.includes('nix build') === (plasmacloud.boot.nixBuild !== undefined));
	assert.ok(plasmacloud.stages.every(stage => STAGES.includes(stage)));
});
