import net from 'node:net';
import {ProblemError} from '../model/field-error.js';

// The management socket of a vde_switch or a wirefilter: one command per
// line, each answered by its output and a status line "1000 Success" (or
// another code with the reason). Commands run in order; the first failure stops.

export type ManageAnswer = {command: string; output: string};

const STATUS_LINE = /^(\d{4}) (.*)$/m;

// timeoutMs is per command (and for the banner): a loaded host answers late, not never.
export function manage(socketPath: string, commands: readonly string[], timeoutMs = 10_000): Promise<ManageAnswer[]> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(socketPath);
		const answers: ManageAnswer[] = [];
		let buffer = '';
		let next = -1;
		const finish = (error?: Error) => {
			clearTimeout(timer);
			socket.destroy();
			if (error) reject(error);
			else resolve(answers);
		};
		const expire = () => finish(new ProblemError({message: `${socketPath}: no answer to "${next < 0 ? 'the banner' : commands[next]}" within ${timeoutMs} ms`}));
		let timer = setTimeout(expire, timeoutMs);
		const send = () => {
			next++;
			clearTimeout(timer);
			timer = setTimeout(expire, timeoutMs);
			if (next >= commands.length) return finish();
			buffer = '';
			socket.write(`${commands[next]}\n`);
		};
		socket.on('data', chunk => {
			buffer += chunk.toString();
			// The banner ends with the first prompt.
			if (next < 0) {
				if (/\$ $/.test(buffer)) send();
				return;
			}
			const statuses = [...buffer.matchAll(new RegExp(STATUS_LINE, 'gm'))].filter(match => match[1] !== '0000');
			const status = statuses[0];
			if (!status) return;
			const output = buffer.slice(0, status.index).replace(/^0000 DATA END WITH '\.'\n/m, '').replace(/\n\.\n?$/, '');
			if (status[1] !== '1000') return finish(new ProblemError({message: `${socketPath}: "${commands[next]}" failed: ${status[1]} ${status[2]!.trim()}`}));
			answers.push({command: commands[next]!, output: output.trim()});
			send();
		});
		socket.on('error', error => finish(new ProblemError({message: `${socketPath}: ${error.message}`})));
	});
}
