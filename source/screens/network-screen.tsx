import type {StepScreenProps} from './components/step-props.js';
import {resolveNodes} from '../model/resolve.js';
import {setNodeCell, type NodeCell} from '../model/draft-edits.js';
import {NodeGridStep, type NodeColumn} from './components/node-grid-step.js';
import {HostsNetworkScreen} from './hosts-network-screen.js';

const COLUMNS: Array<NodeColumn<NodeCell>> = [
	{cell: 'ip', label: 'IP', width: 17},
	{cell: 'mac', label: 'MAC', width: 19},
	{cell: 'hostname', label: 'hostname', width: 16},
	{cell: 'sshPort', label: 'SSH port', width: 9},
];

const SCREEN_FIELDS = /^(network\.|nodes\[\d+\]\.(ip|mac|hostname|sshPort)$)/;

// The subnet above the table (index -1), one row per node, then Next.
export function NetworkScreen(props: StepScreenProps) {
	return props.profile.target.kind === 'ssh-hosts' ? <HostsNetworkScreen {...props} /> : <VmNetworkScreen {...props} />;
}

function VmNetworkScreen(props: StepScreenProps) {
	const {profile, errors} = props;
	const nodes = resolveNodes(profile);
	return (
		<NodeGridStep
			{...props}
			title="Network"
			hint="Auto-assigned values are dim; enter edits a cell, an empty value (ctrl-u) returns it to auto."
			columns={COLUMNS}
			fields={SCREEN_FIELDS}
			setCell={setNodeCell}
			cellOf={(index, {cell, width}) => ({
				shown: String(nodes[index]![cell]).padEnd(width),
				edit: {text: String(profile.nodes[index]![cell] ?? nodes[index]![cell]), original: String(profile.nodes[index]![cell] ?? '')},
				auto: !nodes[index]!.overridden[cell],
				error: errors.some(e => e.field === `nodes[${index}].${cell}`),
			})}
		/>
	);
}
