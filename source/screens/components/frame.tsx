import {Box, Text} from 'ink';
import type {ReactNode} from 'react';

type Props = {
	title: string;
	step?: {index: number; of: number; name: string};
	unsaved: boolean;
	footer: string;
	height: number;
	children: ReactNode;
};

// Header with context, body, key footer; never taller than the terminal
// minus one row (Ink redraws the whole screen once output reaches its height).
export function Frame({title, step, unsaved, footer, height, children}: Props) {
	return (
		<Box flexDirection="column" height={height} overflow="hidden">
			<Box justifyContent="space-between">
				<Text bold color="cyan">
					{`plasma-tui · ${title}${unsaved ? ' · unsaved' : ''}`}
				</Text>
				{step ? <Text dimColor>{`step ${step.index}/${step.of}: ${step.name}`}</Text> : null}
			</Box>
			<Box flexDirection="column" flexGrow={1} overflow="hidden">
				{children}
			</Box>
			<Text dimColor wrap="truncate-end">
				{footer}
			</Text>
		</Box>
	);
}
