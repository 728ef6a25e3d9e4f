import {Box, Text} from 'ink';
import type {NewHostKey} from '../services/ssh-hosts-preflight.js';

// First contact with existing machines: the keys no profile or pins file vouches for yet, as
// each presents it now. Only these exact keys are pinned on y; on n the run's preflight refuses them.
export function HostKeysConfirm({keys}: {keys: NewHostKey[]}) {
	return (
		<Box flexDirection="column" borderStyle="round" borderColor="yellow" paddingX={1}>
			<Text bold>{`No host key is pinned yet for ${keys.length === 1 ? 'this machine' : `these ${keys.length}`}:`}</Text>
			{keys.map(key => (
				<Text key={key.name} wrap="truncate-end">{`  ${key.name.startsWith('jump ') ? 'bastion' : key.name}  ${key.where}  ${key.fingerprint}`}</Text>
			))}
			<Text>Compare each with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the machine itself.</Text>
			<Text>y: accept and pin exactly these keys, then run   n or esc: run without them (preflight refuses those machines)</Text>
		</Box>
	);
}
