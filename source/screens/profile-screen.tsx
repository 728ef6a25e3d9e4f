import {Box, Text} from 'ink';
import {useStateRef} from '../hooks/use-state-ref.js';
import {editValue} from './components/edit-keys.js';
import {useKeys} from './components/key-dispatcher.js';

export type ProfileChoice =
	| {kind: 'resume'}
	| {kind: 'new'; name: string}
	| {kind: 'template'; name: string}
	| {kind: 'saved'; name: string};

type Props = {
	draft?: {name: string; screen: string; savedAt: string};
	saved: string[];
	templates: string[];
	error?: string;
	isActive: boolean;
	onChoose: (choice: ProfileChoice) => void;
	// Checks a new profile name; returns the problem, if any.
	checkName: (name: string) => string | undefined;
};

type Item = {label: string; choice: ProfileChoice | 'new'};

export function ProfileScreen({draft, saved, templates, error, isActive, onChoose, checkName}: Props) {
	const items: Item[] = [
		...(draft ? [{label: `Resume draft "${draft.name}" (${draft.screen}, saved ${draft.savedAt.slice(0, 16).replace('T', ' ')})`, choice: {kind: 'resume'} as const}] : []),
		{label: 'New profile', choice: 'new'},
		...templates.map(name => ({label: `Template: ${name}`, choice: {kind: 'template', name} as const})),
		...saved.map(name => ({label: `Saved: ${name}`, choice: {kind: 'saved', name} as const})),
	];
	const [focus, setFocus, focusRef] = useStateRef(0);
	const [naming, setNaming, namingRef] = useStateRef<string | undefined>(undefined);
	const nameProblem = naming === undefined || naming === '' ? undefined : checkName(naming);

	useKeys(
		(input, key) => {
			const name = namingRef.current!;
			if (key.ctrl && input === 'c') return false;
			if (key.escape) {
				setNaming(undefined);
				return true;
			}
			const step = editValue(name, input, key);
			if (step === undefined) return true;
			setNaming(step.value);
			if (step.commit && step.value !== '' && !checkName(step.value)) onChoose({kind: 'new', name: step.value});
			return true;
		},
		{priority: 'text', active: () => isActive && namingRef.current !== undefined},
	);

	useKeys(
		(_input, key) => {
			if (key.upArrow || (key.tab && key.shift)) setFocus(f => (f - 1 + items.length) % items.length);
			else if (key.downArrow || key.tab) setFocus(f => (f + 1) % items.length);
			else if (key.return) {
				const item = items[focusRef.current]!;
				if (item.choice === 'new') setNaming('');
				else onChoose(item.choice);
			} else return false;
			return true;
		},
		{priority: 'screen', active: isActive},
	);

	return (
		<Box flexDirection="column">
			<Text bold>Choose a profile</Text>
			<Text dimColor>A template starts from a known layout; a saved profile reruns an earlier cluster.</Text>
			<Box flexDirection="column" marginTop={1}>
				{items.map((item, index) => (
					<Text key={item.label} inverse={index === focus} color={index === focus ? 'cyan' : undefined}>
						{`${index === focus ? '›' : ' '} ${item.label}`}
					</Text>
				))}
			</Box>
			{naming !== undefined ? (
				<Box flexDirection="column" marginTop={1}>
					<Box>
						<Text>Name of the new profile: </Text>
						<Text underline>{naming}</Text>
						<Text inverse> </Text>
					</Box>
					{nameProblem ? <Text color="red">{`  ✗ name: ${nameProblem}`}</Text> : <Text dimColor>enter to create, esc to cancel</Text>}
				</Box>
			) : null}
			{error ? <Text color="red">{error}</Text> : null}
		</Box>
	);
}
