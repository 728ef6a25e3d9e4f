import {Box, Text} from 'ink';
import type {TimelineEntry} from '../model/timeline.js';
import {scrollTimeline, timelineLines, timelineWindow, type TimelineKey, type TimelineScroll} from '../model/timeline-view.js';
import {useStateRef} from '../hooks/use-state-ref.js';
import {useKeys} from './components/key-dispatcher.js';

type Props = {
	entries: readonly TimelineEntry[];
	// Where the entries are kept, for the operator.
	file?: string;
	error?: string;
	width: number;
	height: number;
	isActive: boolean;
};

const COLORS: Partial<Record<TimelineEntry['kind'], string>> = {run: 'cyan', fault: 'red', heal: 'green', fact: 'magenta'};

function colorOf(entry: TimelineEntry): string | undefined {
	if (entry.kind === 'check') return entry.to === 'ok' ? 'green' : 'red';
	if (entry.kind === 'node-phase') return entry.to === 'failed' ? 'red' : undefined;
	return COLORS[entry.kind];
}

// Everything recorded for this cluster, oldest at the top, newest at the
// bottom; follows new entries until scrolled up, End follows again.
export function TimelineScreen({entries, file, error, width, height, isActive}: Props) {
	const [scroll, setScroll, scrollRef] = useStateRef<TimelineScroll>({});
	const rows = Math.max(1, height - 2);
	const lines = timelineLines(entries);
	useKeys(
		(_input, key) => {
			const which: TimelineKey | undefined = key.upArrow ? 'up' : key.downArrow ? 'down' : key.pageUp ? 'pageUp' : key.pageDown ? 'pageDown' : key.home ? 'home' : key.end ? 'end' : undefined;
			if (!which) return false;
			setScroll(scrollTimeline(scrollRef.current, which, lines.length, rows));
			return true;
		},
		{priority: 'screen', active: isActive},
	);
	const view = timelineWindow(lines.length, rows, scroll);
	const where = view.following ? 'following' : `scrolled up ${lines.length - view.last} entries (End follows)`;
	return (
		<Box flexDirection="column" height={height} width={width} overflow="hidden">
			<Text bold wrap="truncate-end">{`Timeline: ${entries.length} entries · ${where}`}</Text>
			{lines.length === 0 ? <Text dimColor>nothing recorded yet: node phases, check transitions, facts and faults appear here</Text> : null}
			{lines.slice(view.first, view.last).map((line, index) => (
				<Text key={view.first + index} wrap="truncate-end" color={colorOf(entries[view.first + index]!)}>
					{line}
				</Text>
			))}
			<Text dimColor wrap="truncate-end">
				{error ? `the timeline could not be read: ${error}` : file ? `kept in ${file}` : ''}
			</Text>
		</Box>
	);
}
