import {Box, Text} from 'ink';
import {checkSummary, CLUSTER_ROW, failedChecks, notRunRows, type RunView} from '../model/run-view.js';
import {useStateRef} from '../hooks/use-state-ref.js';
import {watchStatusLine, type WatchView} from '../model/watch-view.js';
import {checkMark, cleanLine} from './components/run-format.js';
import {useKeys} from './components/key-dispatcher.js';

type Props = {
	view: RunView;
	now: number;
	width: number;
	height: number;
	isActive: boolean;
	// Set once validation has written its report.
	report?: {text: string; json: string};
	// Watch mode, once the run has ended with a cluster that keeps running.
	watch?: WatchView;
};

type Line = {key: string; parts: Array<{text: string; color?: string; bold?: boolean}>};

function gridLines(view: RunView, now: number): Line[] {
	const hasCluster = view.checkNames.some(check => view.checks[CLUSTER_ROW]?.[check]);
	const columns = [...view.nodeNames, ...(hasCluster ? [CLUSTER_ROW] : [])];
	const nameWidth = Math.min(28, Math.max(6, ...view.checkNames.map(n => n.length)) + 2);
	const cellWidth = Math.max(11, ...columns.map(c => c.length + 2));
	const header: Line = {key: 'header', parts: [{text: 'check'.padEnd(nameWidth), bold: true}, ...columns.map(c => ({text: c.padEnd(cellWidth), bold: true}))]};
	const rows = view.checkNames.map(check => ({
		key: `check:${check}`,
		parts: [
			{text: check.slice(0, nameWidth - 1).padEnd(nameWidth)},
			...columns.map(column => {
				const cell = view.checks[column]?.[check];
				const mark = checkMark(cell?.status, now);
				// A cluster check has no per-node cell and a node check no cluster cell: leave them blank.
				return {text: (cell ? mark.text : '').padEnd(cellWidth), color: mark.color};
			}),
		],
	}));
	return [header, ...rows];
}

function detailLines(view: RunView): Line[] {
	const lines: Line[] = [];
	for (const failure of failedChecks(view)) {
		lines.push({key: `failed:${failure.row}:${failure.check}`, parts: [{text: `✗ ${failure.row} · ${failure.check}: `, color: 'red', bold: true}, {text: cleanLine(failure.reason)}]});
		if (failure.logLine !== undefined) lines.push({key: `log:${failure.row}:${failure.check}`, parts: [{text: `    last log line: ${cleanLine(failure.logLine)}`, color: 'gray'}]});
	}
	for (const {row, reason, checks} of notRunRows(view)) {
		lines.push({key: `not-run:${row}`, parts: [{text: `– ${row}: ${checks} ${checks === 1 ? 'check' : 'checks'} not run: `, color: 'magenta', bold: true}, {text: cleanLine(reason)}]});
	}
	for (const row of [...view.nodeNames, CLUSTER_ROW]) {
		for (const check of view.checkNames) {
			const cell = view.checks[row]?.[check];
			if (cell?.status === 'waiting' && cell.detail) lines.push({key: `waiting:${row}:${check}`, parts: [{text: `… ${row} · `, color: 'yellow'}, {text: cleanLine(cell.detail)}]});
		}
	}
	return lines;
}

function changeColor(change: string): string | undefined {
	if (/-> (failed|not-run)|does not answer/.test(change)) return 'red';
	if (/-> ok\b|answers on SSH again/.test(change)) return 'green';
	return 'magenta';
}

// The node × check grid, then why each failed check failed, then where the report is.
export function ChecklistScreen({view, now, width, height, isActive, report, watch}: Props) {
	const [top, setTop] = useStateRef(0);
	const summary = checkSummary(view);
	const lines = view.checkNames.length === 0 ? [] : [...gridLines(view, now), ...detailLines(view)];
	// The newest changes watch saw, below the grid: a few rows, the timeline view has them all.
	const changes = watch?.on ? watch.changes.slice(-Math.min(6, Math.max(1, Math.floor(height / 4)))) : [];
	const visible = Math.max(1, height - 3 - (watch ? 1 : 0) - (changes.length > 0 ? changes.length + 1 : 0));
	const maxTop = Math.max(0, lines.length - visible);
	useKeys(
		(_input, key) => {
			if (key.downArrow) setTop(t => Math.min(maxTop, t + 1));
			else if (key.upArrow) setTop(t => Math.max(0, t - 1));
			else if (key.pageDown) setTop(t => Math.min(maxTop, t + visible));
			else if (key.pageUp) setTop(t => Math.max(0, t - visible));
			else return false;
			return true;
		},
		{priority: 'screen', active: isActive},
	);
	const start = Math.min(top, maxTop);
	return (
		<Box flexDirection="column" height={height} width={width} overflow="hidden">
			<Text bold>
				{summary.total === 0
					? 'Checks: none has run yet (they run after every node is installed)'
					: `Checks: ${summary.ok} ok · ${summary.failed} failed · ${summary.waiting} waiting${summary.notRun > 0 ? ` · ${summary.notRun} not run` : ''}, of ${summary.total}`}
			</Text>
			{lines.slice(start, start + visible).map(line => (
				<Text key={line.key} wrap="truncate-end">
					{line.parts.map((part, index) => (
						<Text key={index} color={part.color} bold={part.bold}>
							{part.text}
						</Text>
					))}
				</Text>
			))}
			{lines.length > visible ? <Text dimColor>{`lines ${start + 1}-${Math.min(lines.length, start + visible)} of ${lines.length} (↑↓ PgUp PgDn scroll)`}</Text> : null}
			{watch ? (
				<Text wrap="truncate-end" color={watch.on ? (watch.last && !watch.last.green ? 'red' : 'cyan') : 'gray'}>
					{watchStatusLine(watch)}
				</Text>
			) : null}
			{changes.length > 0 ? <Text bold>{`Changes (newest last; t: the whole timeline)`}</Text> : null}
			{changes.map((change, index) => (
				<Text key={`change:${watch!.changes.length - changes.length + index}`} wrap="truncate-end" color={changeColor(change)}>
					{change}
				</Text>
			))}
			<Text wrap="truncate-end" color={report ? undefined : 'gray'}>
				{report ? `report saved: ${report.text} · ${report.json}` : 'report: saved in the work directory when validation ends'}
			</Text>
		</Box>
	);
}
