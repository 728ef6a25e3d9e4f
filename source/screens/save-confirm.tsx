import {Box, Text} from 'ink';
import {printable} from '../model/field-error.js';
import type {SaveConflict} from '../model/profile-name.js';

// Asked before a save replaces another saved profile or hides a template (y/n; the app routes the keys).
export function SaveConfirm({conflict}: {conflict: SaveConflict}) {
	const name = printable(conflict.name);
	return (
		<Box flexDirection="column" borderStyle="round" borderColor="yellow" paddingX={1}>
			{conflict.kind === 'replaces-saved' ? (
				<>
					<Text bold>{`Replace the saved profile "${name}"?`}</Text>
					<Text>A saved profile of this name exists already; saving replaces it.</Text>
					<Text>y: replace it   n or esc: keep editing (the name is on the topology screen)</Text>
				</>
			) : (
				<>
					<Text bold>{`Save as "${name}"? A template has this name.`}</Text>
					<Text>{`--profile ${name} would then use the saved profile, not the template.`}</Text>
					<Text>y: save anyway   n or esc: keep editing (the name is on the topology screen)</Text>
				</>
			)}
		</Box>
	);
}
