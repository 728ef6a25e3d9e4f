import net from 'node:net';
import {ProblemError} from '../model/field-error.js';

// The management socket of a vde_switch or a wirefilter: one command per
// line, each answered by its output and a status line "1000 Success" (or
// another code with the reason). Commands run in order; the first failure stops.

export type ManageAnswer = {command: string; output: string};

const STATUS_LINE = /^(\d{4}) (.*)$/m;
const PROMPT = /\$ $/;

// timeoutMs is per command (and for the banner): a loaded host answers late, not never.
// The next command goes out only after the prompt that follows a status line:
// the prompt has no newline, so a status written after it would not start a line.
export function manage(socketPath: string, commands: readonly string[], timeoutMs = 10_000): Promise<ManageAnswer[]> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(socketPath);
		const answers: ManageAnswer[] = [];
		let buffer = '';
		let next = -1;
		let answered = true;
		const finish = (error?: Error) => {
			clearTimeout(timer);
			socket.destroy();
			if (error) reject(error);
			else resolve(answers);
		};
		const waitingFor = () => (next < 0 ? 'the banner' : answered ? `the prompt after "${commands[next]}"` : `"${commands[next]}"`);
		const expire = () => finish(new ProblemError({message: `${socketPath}: no answer to ${waitingFor()} within ${timeoutMs} ms`}));
		let timer = setTimeout(expire, timeoutMs);
		const send = () => {
			if (next + 1 >= commands.length) return finish();
			next++;
			answered = false;
			clearTimeout(timer);
			timer = setTimeout(expire, timeoutMs);
			buffer = '';
			socket.write(`${commands[next]}\n`);
		};
		const take = () => {
			if (answered) {
				if (PROMPT.test(buffer)) send();
				return;
			}
			const status = [...buffer.matchAll(new RegExp(STATUS_LINE, 'gm'))].find(match => match[1] !== '0000');
			if (!status) return;
			const output = buffer.slice(0, status.index).replace(/^0000 DATA END WITH '\.'\n/m, '').replace(/\n\.\n?$/, '');
			if (status[1] !== '1000') return finish(new ProblemError({message: `${socketPath}: "${commands[next]}" failed: ${status[1]} ${status[2]!.trim()}`}));
			answers.push({command: commands[next]!, output: output.trim()});
			if (next + 1 >= commands.length) return finish();
			answered = true;
			buffer = buffer.slice(status.index! + status[0].length);
			take();
		};
		socket.on('data', chunk => {
			buffer += chunk.toString();
			take();
		});
		socket.on('error', error => finish(new ProblemError({message: `${socketPath}: ${error.message}`})));
	});
}
