import {Box, Text} from 'ink';
import {useStateRef} from '../hooks/use-state-ref.js';
import {useKeys} from './components/key-dispatcher.js';

type Props = {
	lines: string[];
	height: number;
	saved: boolean;
	message?: string;
	isActive: boolean;
	onSave: () => void;
	onRun: () => void;
	onBack: () => void;
};

// The plan as text, scrollable; nothing is created until the operator runs it.
export function PlanScreen({lines, height, saved, message, isActive, onSave, onRun, onBack}: Props) {
	const [top, setTop] = useStateRef(0);
	const visible = Math.max(3, height - 4);
	const maxTop = Math.max(0, lines.length - visible);
	useKeys(
		(input, key) => {
			if (key.escape) onBack();
			else if (key.downArrow) setTop(t => Math.min(maxTop, t + 1));
			else if (key.upArrow) setTop(t => Math.max(0, t - 1));
			else if (key.pageDown || input === ' ') setTop(t => Math.min(maxTop, t + visible));
			else if (key.pageUp) setTop(t => Math.max(0, t - visible));
			else if (key.home) setTop(0);
			else if (key.end) setTop(maxTop);
			else if (input === 's') onSave();
			else if (key.return) onRun();
			else return false;
			return true;
		},
		{priority: 'screen', active: isActive},
	);
	return (
		<Box flexDirection="column">
			<Text bold>{`Plan ${saved ? '(profile saved)' : '(s saves the profile)'}   lines ${top + 1}-${Math.min(lines.length, top + visible)} of ${lines.length}`}</Text>
			{lines.slice(top, top + visible).map((line, index) => (
				<Text key={top + index} wrap="truncate-end">
					{line || ' '}
				</Text>
			))}
			<Text color="cyan">{message ?? 'enter: save and run (boot, install, validate)   s: save   ↑↓ PgUp PgDn: scroll   esc: back'}</Text>
		</Box>
	);
}
