import {isOurProcess} from '../services/processes.js';
import {identityOf, readState} from '../services/state.js';
import {EXIT, planFor, profileFromOptions} from './common.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'status');
	if (!profile) return EXIT.badInput;
	const plan = planFor(profile);
	let state;
	try {
		state = await readState(plan.stateFile);
	} catch (error) {
		console.error(`plasma-tui status: ${(error as Error).message}`);
		return EXIT.failed;
	}
	const processes = await Promise.all(
		(state?.processes ?? []).map(async entry => ({...entry, alive: await isOurProcess(entry.pid, identityOf(entry))})),
	);
	if (values['json']) {
		console.log(JSON.stringify({profile: profile.name, workDir: plan.workDir, nodes: state?.nodes ?? {}, processes}, null, 2));
	} else {
		const vde = processes.find(p => p.kind === 'vde');
		console.log(`${profile.name}: ${plan.workDir}`);
		console.log(`switch   ${vde ? `${vde.alive ? 'running' : 'dead'} pid ${vde.pid ?? '?'}  ${plan.vde.socket}` : 'not started'}`);
		for (const node of plan.nodes) {
			const entry = processes.find(p => p.kind === 'qemu' && p.node === node.name);
			const status = state?.nodes[node.name];
			const recorded = `${status?.phase ?? 'pending'}${status?.reason ? `: ${status.reason}` : ''}`;
			const phase = entry && !entry.alive && status?.phase !== 'failed' ? 'failed: QEMU is not running' : recorded;
			console.log(`${node.name.padEnd(8)} ${phase}  pid ${entry?.pid ?? '-'}${entry ? (entry.alive ? ' (alive)' : ' (dead)') : ''}  ssh 127.0.0.1:${node.sshPort}  console ${node.runtime.consoleLog}${entry?.alive ? `  sockets ${entry.sockets.join(' ')}` : ''}`);
		}
	}
	if (processes.length === 0) return EXIT.notReady;
	return processes.every(p => p.alive) ? EXIT.ok : EXIT.failed;
};
