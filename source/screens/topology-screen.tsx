import type {StepScreenProps} from './components/step-props.js';
import {Box, Text} from 'ink';
import {useState} from 'react';
import {formatProblem} from '../model/field-error.js';
import {cycleRole, setNodeCount, setNodeName} from '../model/draft-edits.js';
import {FormList, type FormField} from './components/form-list.js';
import {cycleTarget} from '../model/ssh-hosts-edits.js';
import {useKeys} from './components/key-dispatcher.js';

type Props = StepScreenProps & {
	// Said next to the profile name: where the name came from, or what saving under it would replace.
	nameHint?: string;
};

const SCREEN_FIELDS = /^(name$|cluster\.|target|nodes$|nodes\[\d+\]\.(name|role)$)/;
const TARGET_LABELS = {qemu: 'VMs on this host (qemu)', 'ssh-hosts': 'machines over SSH (ssh-hosts)'} as const;

export function TopologyScreen({profile, errors, nameHint, isActive, onChange, onNext, onBack, bodyRows = 1000}: Props) {
	const [countText, setCountText] = useState(String(profile.nodes.length));
	const [countError, setCountError] = useState<string | undefined>();
	const [blocked, setBlocked] = useState(false);
	const errorFor = (field: string) => errors.find(e => e.field === field);
	const show = (field: string) => {
		const error = errorFor(field);
		return error ? formatProblem(error) : undefined;
	};
	const fields: FormField[] = [
		{id: 'profile.name', label: 'Profile name', value: profile.name, kind: 'text', error: show('name'), hint: nameHint},
		{id: 'cluster.name', label: 'Cluster name', value: profile.cluster.name, kind: 'text', error: show('cluster.name')},
		{id: 'cluster.domain', label: 'Domain', value: profile.cluster.domain, kind: 'text', error: show('cluster.domain')},
		{id: 'count', label: 'Nodes (1-16)', value: countText, kind: 'text', error: countError ?? show('nodes'), hint: 'overrides of the remaining nodes are kept'},
		...profile.nodes.flatMap((node, i): FormField[] => [
			{id: `name:${i}`, label: `Node ${i + 1} name`, value: node.name, kind: 'text', error: show(`nodes[${i}].name`)},
			{id: `role:${i}`, label: `Node ${i + 1} role`, value: node.role, kind: 'choice'},
		]),
		{id: 'next', label: 'Next: network →', value: '', kind: 'action'},
	];

	// The target is a key, not a field: the fields keep their places whatever the target.
	useKeys((input, key) => {
		if (input !== 't' || key.ctrl || key.meta) return false;
		onChange(cycleTarget(profile));
		return true;
	}, {priority: 'screen', active: isActive});

	const change = (id: string, value: string) => {
		setBlocked(false);
		if (id === 'profile.name') return onChange({...profile, name: value});
		if (id === 'cluster.name') return onChange({...profile, cluster: {...profile.cluster, name: value}});
		if (id === 'cluster.domain') return onChange({...profile, cluster: {...profile.cluster, domain: value}});
		if (id === 'count') {
			setCountText(value);
			const next = setNodeCount(profile, value);
			if ('message' in next) return setCountError(formatProblem(next));
			setCountError(undefined);
			return onChange(next);
		}
		const [kind, index] = id.split(':');
		if (kind === 'name') onChange(setNodeName(profile, Number(index), value));
	};

	return (
		<Box flexDirection="column">
			<Text bold>Topology</Text>
			<Text dimColor>The profile's name, how many nodes, what they are called and what they do.</Text>
			<Text>
				Target: <Text bold>{TARGET_LABELS[profile.target.kind]}</Text>
				<Text dimColor>{profile.target.kind === 'ssh-hosts' ? ' · t: VMs instead · the network step asks each machine\'s SSH host, port, user' : ' · t: existing machines over SSH instead'}</Text>
			</Text>
			<Box marginTop={1}>
				<FormList
					fields={fields}
					maxRows={bodyRows - 4}
					isActive={isActive}
					onChange={change}
					onCycle={id => onChange(cycleRole(profile, Number(id.split(':')[1])))}
					onAction={() => {
						if (countError || errors.some(e => SCREEN_FIELDS.test(e.field))) return setBlocked(true);
						onNext();
					}}
					onBack={onBack}
				/>
			</Box>
			{blocked ? <Text color="red">Fix the errors marked ✗ before going on.</Text> : null}
		</Box>
	);
}
