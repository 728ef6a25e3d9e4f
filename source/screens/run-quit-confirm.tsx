import {Box, Text} from 'ink';

export function RunQuitConfirm({profileName, running}: {profileName: string; running: boolean}) {
	return (
		<Box flexDirection="column" borderStyle="round" borderColor="yellow" paddingX={1}>
			<Text bold>{running ? `Quit? The run of "${profileName}" is still going.` : `Quit? The cluster "${profileName}" keeps running.`}</Text>
			<Text>{running ? 'Quitting stops the nodes this run started (nodes it attached to keep running).' : `plasma-tui down --profile ${profileName} stops it; plasma-tui status shows it.`}</Text>
			<Text>{running ? 'y: stop the nodes and quit   n or esc: stay' : 'y: quit   n or esc: stay'}</Text>
		</Box>
	);
}
