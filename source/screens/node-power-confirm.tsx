import {Box, Text} from 'ink';
import type {NodePowerAction} from '../model/node-power.js';

// The quorum guard before a node stop, start or restart: what it costs, then y/n.
export function NodePowerConfirm({node, action, message, losesQuorum}: {node: string; action: NodePowerAction; message: string; losesQuorum: boolean}) {
	return (
		<Box flexDirection="column" borderStyle="round" borderColor={losesQuorum ? 'red' : 'yellow'} paddingX={1}>
			<Text bold>{`${action} ${node}`}</Text>
			<Text color={losesQuorum ? 'red' : undefined}>{`${message}. Proceed? y/n`}</Text>
		</Box>
	);
}
