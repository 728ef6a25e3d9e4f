import {Box, Text} from 'ink';

export function QuitConfirm({profileName}: {profileName: string}) {
	return (
		<Box flexDirection="column" borderStyle="round" borderColor="yellow" paddingX={1}>
			<Text bold>{`Quit? "${profileName}" has unsaved changes.`}</Text>
			<Text>The draft is kept: the next start offers to resume it.</Text>
			<Text>y: quit   s: save the profile and quit   n or esc: stay</Text>
		</Box>
	);
}
