import {Box, Text} from 'ink';
import type {NodeView} from '../model/run-view.js';
import type {NodePowerAction} from '../model/node-power.js';
import {useStateRef} from '../hooks/use-state-ref.js';
import {isTypingEscape, keyToBytes} from './components/console-keys.js';
import {useKeys} from './components/key-dispatcher.js';
import {cleanLine, paneGrid} from './components/run-format.js';
import {consoleWindow} from './components/console-window.js';

type Props = {
	nodes: NodeView[];
	width: number;
	height: number;
	isActive: boolean;
	onSend: (node: string, data: string) => void;
	// x stop, s start, r restart the focused node (the run screen asks the quorum guard first).
	onPower?: (node: string, action: NodePowerAction) => void;
};

const POWER_KEYS: Record<string, NodePowerAction> = {x: 'stop', s: 'start', r: 'restart'};

function paneTitle(node: NodeView, window: {end: number; following: boolean}, typing: boolean): string {
	const total = node.console.total;
	const kept = node.console.size < total ? `, ${node.console.size} kept` : '';
	const where = window.following ? 'following' : `scrolled up ${total - window.end} lines, End follows`;
	return `${node.name} · ${total} lines${kept} · ${typing ? 'typing: ctrl-] stops' : where}`;
}

// Every node's serial console at once, with focus, zoom, scrollback and typing.
export function ConsoleView({nodes, width, height, isActive, onSend, onPower}: Props) {
	// A ref as well as state: "i" and the text typed after it can arrive before the next render.
	const [typing, setTyping, typingRef] = useStateRef(false);
	const [focus, setFocus, focusRef] = useStateRef(0);
	const [zoomed, setZoomed, zoomedRef] = useStateRef(false);
	const [ends, setEnds] = useStateRef<Record<string, number | undefined>>({});
	const grid = paneGrid(nodes.length, width, 50);
	// Every pane needs its border, title and a line; with many nodes only the rows around the focus fit.
	const fittingRows = Math.max(1, Math.floor((height - 1) / 4));
	const paged = !zoomedRef.current && grid.rows > fittingRows;
	const visibleRows = paged ? fittingRows : grid.rows;
	const paneHeight = zoomedRef.current ? height : Math.floor((height - (paged ? 1 : 0)) / visibleRows);
	const rowsPerPane = paneHeight - 3;

	const focusedNode = () => nodes[Math.min(focusRef.current, nodes.length - 1)];

	// While typing every key goes to the node, ctrl-c included; ctrl-] gives the keys back.
	useKeys(
		(input, key) => {
			const node = focusedNode();
			if (isTypingEscape(input, key)) setTyping(false);
			else if (node) onSend(node.name, keyToBytes(input, key));
			return true;
		},
		{priority: 'text', active: () => isActive && typingRef.current},
	);

	useKeys(
		(input, key) => {
			const node = focusedNode();
			if (!node) return false;
			const scrollBy = (lines: number) =>
				setEnds(current => {
					const window = consoleWindow(node.console, rowsPerPane, current[node.name]);
					const end = window.end + lines;
					return {...current, [node.name]: end >= node.console.total ? undefined : end};
				});
			if (input === 'i') setTyping(true);
			else if (onPower && POWER_KEYS[input]) onPower(node.name, POWER_KEYS[input]!);
			else if (key.tab && key.shift) setFocus(f => (f - 1 + nodes.length) % nodes.length);
			else if (key.tab || key.rightArrow) setFocus(f => (f + 1) % nodes.length);
			else if (key.leftArrow) setFocus(f => (f - 1 + nodes.length) % nodes.length);
			else if (input === 'z' || key.return) setZoomed(z => !z);
			else if (key.escape && zoomedRef.current) setZoomed(false);
			else if (key.upArrow) scrollBy(-1);
			else if (key.downArrow) scrollBy(1);
			else if (key.pageUp) scrollBy(-rowsPerPane);
			else if (key.pageDown) scrollBy(rowsPerPane);
			else if (key.home) setEnds(current => ({...current, [node.name]: node.console.dropped + rowsPerPane}));
			else if (key.end) setEnds(current => ({...current, [node.name]: undefined}));
			else return false;
			return true;
		},
		{priority: 'screen', active: isActive},
	);

	const focused = Math.min(focus, nodes.length - 1);
	const shown = zoomed ? nodes.slice(focused, focused + 1) : nodes;
	const columns = zoomed ? 1 : grid.columns;
	const paneWidth = zoomed ? width : grid.paneWidth;
	const allRows = Array.from({length: Math.ceil(shown.length / columns)}, (_, row) => shown.slice(row * columns, (row + 1) * columns));
	const focusRow = Math.floor(focused / columns);
	const firstRow = paged ? Math.min(Math.max(0, focusRow - Math.floor(visibleRows / 2)), allRows.length - visibleRows) : 0;
	const rows = zoomed ? allRows : allRows.slice(firstRow, firstRow + visibleRows);
	const firstShown = firstRow * columns;
	const lastShown = Math.min(nodes.length, (firstRow + visibleRows) * columns);
	return (
		<Box flexDirection="column" height={height} overflow="hidden">
			{rows.map(row => (
				<Box key={row[0]!.name}>
					{row.map(node => {
						const isFocused = node.name === nodes[focused]?.name;
						const window = consoleWindow(node.console, rowsPerPane, ends[node.name]);
						const color = isFocused ? (typing ? 'yellow' : 'cyan') : 'gray';
						return (
							<Box key={node.name} width={paneWidth} height={paneHeight} flexShrink={0} flexDirection="column" borderStyle={isFocused ? 'bold' : 'single'} borderColor={color} overflow="hidden">
								<Text wrap="truncate-end" color={color} bold={isFocused}>
									{paneTitle(node, window, isFocused && typing)}
								</Text>
								{window.lines.map((line, index) => (
									<Text key={window.end - window.lines.length + index} wrap="truncate-end">
										{cleanLine(line) || ' '}
									</Text>
								))}
							</Box>
						);
					})}
				</Box>
			))}
			{paged ? <Text dimColor>{`consoles ${firstShown + 1}-${lastShown} of ${nodes.length} · tab moves on, z zooms one`}</Text> : null}
		</Box>
	);
}
