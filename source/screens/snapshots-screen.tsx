import {Box, Text} from 'ink';
import {formatBytes, type SnapshotRow} from '../model/snapshot.js';
import type {SnapshotAction} from '../hooks/use-snapshots.js';
import {useStateRef} from '../hooks/use-state-ref.js';
import {useKeys} from './components/key-dispatcher.js';

type Props = {
	rows: SnapshotRow[];
	busy?: string;
	message?: {text: string; ok: boolean};
	// Why the actions are not available now (the run still goes), else undefined.
	unavailable?: string;
	width: number;
	height: number;
	isActive: boolean;
	onAction: (action: SnapshotAction, name?: string) => void;
};

// The cluster's snapshots (name, time, node count, size) and the keys that save,
// restore and delete them; restore and delete ask first.
export function SnapshotsScreen({rows, busy, message, unavailable, width, height, isActive, onAction}: Props) {
	const [selected, setSelected, selectedRef] = useStateRef(0);
	const [asking, setAsking, askingRef] = useStateRef<'restore' | 'delete' | undefined>(undefined);
	const current = rows[Math.min(selected, rows.length - 1)];

	useKeys(
		(input, key) => {
			const pending = askingRef.current;
			const row = rows[Math.min(selectedRef.current, rows.length - 1)];
			if (pending) {
				if (input === 'y' && row) onAction(pending, row.name);
				if (input === 'y' || input === 'n' || key.escape) setAsking(undefined);
				return true;
			}
			if (key.upArrow) setSelected(index => Math.max(0, index - 1));
			else if (key.downArrow) setSelected(index => Math.min(Math.max(0, rows.length - 1), index + 1));
			else if (unavailable || busy) return input === 'n' || input === 'r' || input === 'd';
			else if (input === 'n') onAction('save');
			else if ((input === 'r' || input === 'd') && row) setAsking(input === 'r' ? 'restore' : 'delete');
			else return false;
			return true;
		},
		{priority: 'screen', active: isActive},
	);

	const nameWidth = Math.max(6, ...rows.map(r => r.name.length)) + 2;
	const visible = rows.slice(0, Math.max(1, height - 6));
	return (
		<Box flexDirection="column" width={width}>
			<Text bold>{`${'name'.padEnd(nameWidth)}${'taken'.padEnd(26)}${'nodes'.padEnd(7)}size`}</Text>
			{rows.length === 0 ? <Text dimColor>no snapshots yet: n saves one</Text> : null}
			{visible.map(row => (
				<Text key={row.name} inverse={row === current} wrap="truncate-end">
					{`${row.name.padEnd(nameWidth)}${row.takenAt.replace('T', ' ').slice(0, 19).padEnd(26)}${String(row.nodes).padEnd(7)}${formatBytes(row.sizeBytes)}`}
				</Text>
			))}
			<Text> </Text>
			{asking && current ? (
				<Text color="yellow">{asking === 'restore' ? `Restore ${current.name}? Every node goes back to ${current.takenAt}; what happened since is lost. y: restore   n or esc: stay` : `Delete ${current.name} from every node's disk? y: delete   n or esc: keep`}</Text>
			) : null}
			{busy ? <Text color="cyan">{`${busy}…`}</Text> : null}
			{!busy && message ? <Text color={message.ok ? 'green' : 'red'} wrap="wrap">{message.text}</Text> : null}
			{unavailable ? <Text dimColor>{unavailable}</Text> : null}
		</Box>
	);
}
