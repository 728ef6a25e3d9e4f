import {Box, Text, useInput} from 'ink';
import {useStateRef} from '../hooks/use-state-ref.js';

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
	useInput(
		(input, key) => {
			if (key.escape) return onBack();
			if (key.downArrow) return setTop(t => Math.min(maxTop, t + 1));
			if (key.upArrow) return setTop(t => Math.max(0, t - 1));
			if (key.pageDown || input === ' ') return setTop(t => Math.min(maxTop, t + visible));
			if (key.pageUp) return setTop(t => Math.max(0, t - visible));
			if (key.home) return setTop(0);
			if (key.end) return setTop(maxTop);
			if (input === 's') return onSave();
			if (key.return) return onRun();
		},
		{isActive},
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
