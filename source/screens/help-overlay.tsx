import {Box, Text} from 'ink';

export type KeyHelp = Array<[string, string]>;

export const COMMON_KEYS: KeyHelp = [
	['↑ ↓ tab', 'move between fields'],
	['enter', 'edit a field / confirm / next'],
	['esc', 'cancel an edit, or go back a screen'],
	['ctrl-u', 'clear the field being edited'],
	['?', 'this help (esc closes it)'],
	['q', 'quit (asks first when something is unsaved)'],
];

export function HelpOverlay({title, keys, common = COMMON_KEYS}: {title: string; keys: KeyHelp; common?: KeyHelp}) {
	return (
		<Box flexDirection="column" borderStyle="round" borderColor="cyan" paddingX={1}>
			<Text bold>{`Keys: ${title}`}</Text>
			{[...keys, ...common].map(([key, text]) => (
				<Text key={`${key}:${text}`}>{`${key.padEnd(12)} ${text}`}</Text>
			))}
			<Text dimColor>esc or ? closes this help</Text>
		</Box>
	);
}
