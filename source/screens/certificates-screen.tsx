import {Box, Text} from 'ink';
import {useState} from 'react';
import type {Profile} from '../model/profile-schema.js';
import {type FieldError, formatProblem} from '../model/field-error.js';
import {resolveNodes} from '../model/resolve.js';
import {plannedSans} from '../model/sans.js';
import {cycleKeyType, KEY_TYPE_LABELS, setExistingCa, setValidityDays} from '../model/draft-edits.js';
import {FormList, type FormField} from './components/form-list.js';

export type CertRow = {who: string; keyType: string; fingerprint256: string; notAfter: string; reused: boolean};
export type CertState = {status: 'idle'} | {status: 'running'} | {status: 'done'; rows: CertRow[]} | {status: 'error'; message: string};

type Props = {
	profile: Profile;
	errors: FieldError[];
	certs: CertState;
	isActive: boolean;
	onChange: (profile: Profile) => void;
	onGenerate: () => void;
	onNext: () => void;
	onBack: () => void;
	// Rows the screen may use (terminal rows minus header and footer).
	bodyRows?: number;
};

const SCREEN_FIELDS = /^tls\./;

// The first items that fit in `rows` lines, keeping one line for "… n more".
function fit<T>(items: T[], rows: number): {shown: T[]; hidden: number} {
	if (items.length <= rows) return {shown: items, hidden: 0};
	const shown = items.slice(0, Math.max(1, rows - 1));
	return {shown, hidden: items.length - shown.length};
}

export function CertificatesScreen({profile, errors, certs, isActive, onChange, onGenerate, onNext, onBack, bodyRows = 1000}: Props) {
	const [validityText, setValidityText] = useState(String(profile.tls.validityDays));
	const [validityError, setValidityError] = useState<string | undefined>();
	const [blocked, setBlocked] = useState(false);
	const show = (field: string) => {
		const error = errors.find(e => e.field === field);
		return error ? formatProblem(error) : undefined;
	};
	const fields: FormField[] = [
		{id: 'keyType', label: 'Key type', value: KEY_TYPE_LABELS[profile.tls.keyType], kind: 'choice', hint: '←/→ to change'},
		{id: 'validity', label: 'Validity (days)', value: validityText, kind: 'text', error: validityError ?? show('tls.validityDays')},
		{id: 'caCert', label: 'Existing CA cert', value: profile.tls.existingCa?.cert ?? '', kind: 'text', hint: 'empty: create a new CA', error: show('tls.existingCa.cert')},
		{id: 'caKey', label: 'Existing CA key', value: profile.tls.existingCa?.key ?? '', kind: 'text', error: show('tls.existingCa.key')},
		{id: 'generate', label: certs.status === 'done' ? 'Generate again (keeps what is valid)' : 'Generate certificates', value: '', kind: 'action'},
		{id: 'next', label: 'Next: checks →', value: '', kind: 'action'},
	];

	const change = (id: string, value: string) => {
		setBlocked(false);
		if (id === 'validity') {
			setValidityText(value);
			const next = setValidityDays(profile, value);
			if ('message' in next) return setValidityError(formatProblem(next));
			setValidityError(undefined);
			return onChange(next);
		}
		onChange(setExistingCa(profile, id === 'caCert' ? 'cert' : 'key', value));
	};

	const nodes = resolveNodes(profile);
	// Lines left for the SAN preview and the written list once titles, fields and messages are placed.
	const fieldRows = fields.reduce((sum, field) => sum + (field.error ? 3 : 1), 0);
	const rest = bodyRows - 3 - fieldRows - 2 - 2 - (certs.status === 'done' ? 2 : 0);
	const written = certs.status === 'done' ? certs.rows : [];
	const sanRows = written.length > 0 ? Math.min(nodes.length, Math.max(2, Math.floor(rest / 3))) : Math.max(2, rest);
	const writtenRows = Math.max(2, rest - Math.min(sanRows, nodes.length));
	return (
		<Box flexDirection="column">
			<Text bold>Certificates</Text>
			<Text dimColor>{profile.tls.existingCa ? 'Node certificates will be signed by your CA.' : 'A new CA is created once and reused on every later run.'}</Text>
			<Box marginTop={1}>
				<FormList
					fields={fields}
					isActive={isActive}
					onChange={change}
					onCycle={(_, direction) => onChange(cycleKeyType(profile, direction))}
					onAction={id => {
						if (validityError || errors.some(e => SCREEN_FIELDS.test(e.field))) return setBlocked(true);
						if (id === 'generate') onGenerate();
						else onNext();
					}}
					onBack={onBack}
				/>
			</Box>
			<Box flexDirection="column" marginTop={1}>
				<Text bold>Subject alternative names</Text>
				{fit(nodes, sanRows).shown.map(node => {
					const sans = plannedSans(node);
					return <Text key={node.name}>{`  ${node.name.padEnd(8)} DNS ${sans.dns.join(', ')}  IP ${sans.ips.join(', ')}`}</Text>;
				})}
				{fit(nodes, sanRows).hidden > 0 ? <Text dimColor>{`  … ${fit(nodes, sanRows).hidden} more nodes`}</Text> : null}
			</Box>
			{certs.status === 'running' ? <Text color="yellow">Generating certificates…</Text> : null}
			{certs.status === 'error' ? <Text color="red">{`✗ ${certs.message}`}</Text> : null}
			{certs.status === 'done' ? (
				<Box flexDirection="column" marginTop={1}>
					<Text bold>Written</Text>
					{fit(written, writtenRows).shown.map(row => (
						<Text key={row.who}>{`  ${row.who.padEnd(8)} ${row.keyType.padEnd(12)} expires ${row.notAfter.slice(0, 10)}  ${row.fingerprint256.slice(0, 29)}…  ${row.reused ? 'reused' : 'new'}`}</Text>
					))}
					{fit(written, writtenRows).hidden > 0 ? <Text dimColor>{`  … ${fit(written, writtenRows).hidden} more (all under the cluster's tls directory)`}</Text> : null}
				</Box>
			) : null}
			{blocked ? <Text color="red">Fix the errors marked ✗ before going on.</Text> : null}
		</Box>
	);
}
