import {Box, Text} from 'ink';
import type {CheckCell, NodeView, RunView} from '../model/run-view.js';
import {cleanLine, elapsed, isBusy, paneGrid, phaseColor, spinner, wrapRows} from './components/run-format.js';

type Props = {
	view: RunView;
	now: number;
	width: number;
	height: number;
	// Active faults per node ("frozen", "delay 200ms"), shown in the pane's title.
	markers?: Record<string, string[]>;
};

type PaneLine = {text: string; color?: string};

// What a node's pane says below its title, most urgent first; the last console line always comes last.
export function paneLines(node: NodeView, now: number, checks: Record<string, CheckCell> = {}): {urgent: PaneLine[]; console: PaneLine} {
	const urgent: PaneLine[] = [];
	if (node.phase === 'validating') {
		const cells = Object.entries(checks);
		const waiting = cells.find(([, cell]) => cell.status === 'waiting');
		const failed = cells.filter(([, cell]) => cell.status === 'failed').length;
		const ok = cells.filter(([, cell]) => cell.status === 'ok').length;
		urgent.push({text: `checks: ${ok} ok${failed ? `, ${failed} failed` : ''}${waiting ? ` · ${waiting[1].detail ?? `waiting for ${waiting[0]}`}` : ''}`, color: failed ? 'red' : 'cyan'});
	}
	if (node.phase === 'failed') urgent.push({text: `failed: ${node.reason ?? 'no reason given'}`, color: 'red'});
	else if (node.wait) urgent.push({text: `waiting for ${node.wait.waitingFor}${node.wait.lastError ? `: ${node.wait.lastError}` : ''} (${elapsed(node.wait.elapsedMs + now - node.wait.at)})`, color: 'yellow'});
	else if (node.reason) urgent.push({text: node.reason, color: 'gray'});
	if (node.stall) urgent.push({text: `⚠ ${node.stall}`, color: 'yellow'});
	const install = node.install.last();
	if (install && (node.phase === 'installing' || node.phase === 'installed')) urgent.push({text: `> ${cleanLine(install)}`});
	const console = node.lastConsole === undefined ? {text: '│ (no console output yet)', color: 'gray'} : {text: `│ ${cleanLine(node.lastConsole)}`};
	return {urgent, console};
}

// Urgent lines wrap (a failure reason matters in full); console lines are cut to one row each.
function fitPane(node: NodeView, checks: Record<string, CheckCell> | undefined, now: number, width: number, rows: number): PaneLine[] {
	const {urgent, console} = paneLines(node, now, checks);
	const fitted: PaneLine[] = [];
	for (const line of urgent) {
		const room = rows - 1 - fitted.length;
		for (const text of wrapRows(line.text, width, Math.min(room, 3))) fitted.push({text, color: line.color});
	}
	// Rows left over show more of the console, newest last.
	const more = node.console.tail(Math.max(1, rows - fitted.length)).map(line => ({text: `│ ${cleanLine(line)}`}));
	return [...fitted, ...(more.length > 0 ? more : [console])];
}

function Title({node, now, markers = []}: {node: NodeView; now: number; markers?: string[]}) {
	return (
		<Text wrap="truncate-end">
			<Text bold>{node.name}</Text>
			<Text color={phaseColor(node.phase)}>{`  ${node.phase}`}</Text>
			<Text dimColor>{`  ${elapsed(now - node.phaseSince)}`}</Text>
			{isBusy(node.phase) ? <Text color="cyan">{` ${spinner(now)}`}</Text> : null}
			{markers.length > 0 ? <Text color="magenta" bold>{`  [${markers.join(', ')}]`}</Text> : null}
		</Text>
	);
}

// One pane per node: phase, time in that phase, what it waits for, stall hint, last console line.
export function PanesScreen({view, now, width, height, markers}: Props) {
	const nodes = view.nodeNames.map(name => view.nodes[name]!);
	const grid = paneGrid(nodes.length, width);
	// Title and borders take three rows; the rest is for what the node says.
	const bodyLines = Math.min(6, Math.floor((height - 1) / grid.rows) - 3);
	const bordered = bodyLines >= 2;
	// Warnings about the whole run (preflight findings, the switch); a node's own go in its pane.
	const warnings = view.log
		.tail(50)
		.filter(line => line.level !== 'info' && !line.node)
		.slice(-3);

	if (!bordered) {
		// Too many nodes for boxes: one line each, still with the most urgent thing it says.
		return (
			<Box flexDirection="column" height={height} overflow="hidden">
				{nodes.map(node => {
					const said = paneLines(node, now, view.checks[node.name]);
					const line = said.urgent[0] ?? said.console;
					return (
						<Box key={node.name} width={width}>
							<Box width={Math.min(34, Math.floor(width / 2))} flexShrink={0}>
								<Title node={node} now={now} markers={markers?.[node.name]} />
							</Box>
							<Text wrap="truncate-end" color={line.color}>
								{line.text}
							</Text>
						</Box>
					);
				})}
			</Box>
		);
	}
	const rows = Array.from({length: grid.rows}, (_, row) => nodes.slice(row * grid.columns, (row + 1) * grid.columns));
	return (
		<Box flexDirection="column" height={height} overflow="hidden">
			{rows.map(row => (
				<Box key={row[0]!.name}>
					{row.map(node => (
						<Box
							key={node.name}
							width={grid.paneWidth}
							height={bodyLines + 3}
							flexDirection="column"
							borderStyle="round"
							borderColor={node.phase === 'failed' ? 'red' : node.stall ? 'yellow' : 'gray'}
							paddingX={1}
							overflow="hidden"
						>
							<Title node={node} now={now} markers={markers?.[node.name]} />
							{fitPane(node, view.checks[node.name], now, grid.paneWidth - 4, bodyLines).map((line, index) => (
								<Text key={index} wrap="truncate-end" color={line.color}>
									{line.text}
								</Text>
							))}
						</Box>
					))}
				</Box>
			))}
			{view.stages
				.filter(stage => stage.status === 'failed')
				.map(stage => (
					<Text key={stage.name} color="red">{`✗ ${stage.name}: ${stage.message ?? 'failed'}`}</Text>
				))}
			{warnings.map((warning, index) => (
				<Text key={index} color={warning.level === 'error' ? 'red' : 'yellow'}>
					{`${warning.level}: ${warning.message}`}
				</Text>
			))}
		</Box>
	);
}
