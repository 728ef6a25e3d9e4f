import {test} from 'node:test';
import assert from 'node:assert/strict';
import {describeFault, faultMarkers, membersDownBy, parseFault, parseRate, takenBy, wirefilterCommands, withImpairment, type ActiveFault} from '../../source/model/fault.js';
import {markerEvents} from '../../source/model/fault-events.js';

const nodes = ['node01', 'node02', 'node03', 'node04', 'node05'];
const at = '2026-01-01T00:00:00.000Z';
const message = (parsed: ReturnType<typeof parseFault>) => (parsed.ok ? '' : parsed.message);

test('fault words parse into one request, with the node checked against the plan', () => {
	assert.deepEqual(parseFault(['kill', 'node02'], nodes), {ok: true, request: {action: 'kill', node: 'node02'}});
	assert.deepEqual(parseFault(['heal'], nodes), {ok: true, request: {action: 'heal'}});
	assert.deepEqual(parseFault(['thaw', 'node01'], nodes), {ok: true, request: {action: 'thaw', node: 'node01'}});
	assert.deepEqual(parseFault(['delay', 'node02', '200ms'], nodes), {ok: true, request: {action: 'delay', node: 'node02', value: 200}});
	assert.deepEqual(parseFault(['jitter', 'node02', '0.05s'], nodes), {ok: true, request: {action: 'jitter', node: 'node02', value: 50}});
	assert.deepEqual(parseFault(['loss', 'node02', '10%'], nodes), {ok: true, request: {action: 'loss', node: 'node02', value: 10}});
	assert.deepEqual(parseFault(['bandwidth', 'node02', '1mbit'], nodes), {ok: true, request: {action: 'bandwidth', node: 'node02', value: 125_000}});
	const bad = parseFault(['freeze', 'node9'], nodes);
	assert.equal(bad.ok, false);
	assert.match(bad.ok ? '' : bad.message, /unknown node "node9" \(nodes: node01/);
	const slow = parseFault(["delay", "node01", "slow"], nodes);
	assert.equal(slow.ok ? "" : slow.message, `fault delay: "slow" is not a delay value, e.g. 200ms`);
	assert.match(message(parseFault(['loss', 'node01', '150%'], nodes)), /not a loss value/);
	assert.match(message(parseFault(['explode', 'node01'], nodes)), /unknown action "explode"/);
	assert.match(message(parseFault(['kill'], nodes)), /needs a NODE/);
});

test('a partition takes groups in either spelling; a node named nowhere joins the first group', () => {
	const spaced = parseFault(['partition', 'node01,node02', 'node03,node04,node05'], nodes);
	const piped = parseFault(['partition', 'node01,node02|node03,node04,node05'], nodes);
	assert.deepEqual(spaced, piped);
	assert.deepEqual(spaced, {ok: true, request: {action: 'partition', groups: [['node01', 'node02'], ['node03', 'node04', 'node05']]}});
	assert.deepEqual(parseFault(['partition', 'node03'], nodes.slice(0, 3)).ok, false);
	assert.deepEqual(parseFault(['partition', 'node01', 'node03'], nodes.slice(0, 3)), {ok: true, request: {action: 'partition', groups: [['node01', 'node02'], ['node03']]}});
	assert.match(message(parseFault(['partition', 'node01', 'node01,node02'], nodes)), /node01 is in two groups/);
});

test('who cannot vote: killed, frozen, isolated, and what a partition cuts off from its largest group', () => {
	const members = ['node01', 'node02', 'node03', 'node04', 'node05'];
	const faults: ActiveFault[] = [
		{kind: 'frozen', node: 'node01', at},
		{kind: 'impaired', node: 'node02', at, delayMs: 200},
		{kind: 'partition', groups: [['node01', 'node02'], ['node03', 'node04', 'node05']], vlans: [101, 102], at},
	];
	assert.deepEqual(membersDownBy(faults, members).sort(), ['node01', 'node02']);
	assert.deepEqual(takenBy({action: 'partition', groups: [['node01', 'node02', 'node03'], ['node04', 'node05']]}, members), ['node04', 'node05']);
	assert.deepEqual(takenBy({action: 'reboot', node: 'node01'}, members), []);
	assert.deepEqual(takenBy({action: 'isolate', node: 'node03'}, members), ['node03']);
});

test("a node's pane markers and the status line of each fault", () => {
	const faults: ActiveFault[] = [
		{kind: 'isolated', node: 'node02', at},
		{kind: 'impaired', node: 'node02', at, delayMs: 200, lossPercent: 5, bandwidthBytes: 125_000},
		{kind: 'partition', groups: [['node01'], ['node02', 'node03']], vlans: [101, 102], at},
	];
	assert.deepEqual(faultMarkers(faults, 'node02'), ['isolated', 'delay 200ms', 'loss 5%', 'bandwidth 1mbit', 'partition 2/2']);
	assert.deepEqual(faultMarkers(faults, 'node01'), ['partition 1/2']);
	assert.equal(describeFault(faults[2]!), 'partition node01 | node02,node03');
});

test('impairments add up per node and become wirefilter commands on the outgoing direction', () => {
	const impairment = withImpairment(withImpairment(undefined, 'delay', 200), 'jitter', 20);
	assert.deepEqual(impairment, {delayMs: 200, jitterMs: 20});
	assert.deepEqual(wirefilterCommands(impairment), ['delay LR 200+20', 'loss LR 0', 'bandwidth LR 0']);
	assert.deepEqual(wirefilterCommands({}), ['delay LR 0', 'loss LR 0', 'bandwidth LR 0']);
	assert.equal(parseRate('512kbit'), 64_000);
	assert.equal(parseRate('fast'), undefined);
});

test('fault markers read from the state file become events: each fault on or off once, per node', () => {
	const events = markerEvents({node02: ['frozen'], node03: ['isolated']}, {node03: ['isolated', 'delay 200ms'], node01: ['partition 1/2']}, 5);
	assert.deepEqual(
		events.map(e => (e.type === 'log' ? `${e.level} ${e.node}: ${e.message}` : e.type)),
		['info node02: fault undone: frozen', 'warn node03: fault: delay 200ms', 'warn node01: fault: partition 1/2'],
	);
	assert.deepEqual(markerEvents({node03: ['isolated']}, {node03: ['isolated']}, 5), []);
});
