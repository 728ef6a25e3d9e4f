import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type {NodePlan} from '../source/model/plan.js';
import {qmpAction} from '../source/services/node-faults.js';

// A real QEMU with no guest (firmware only, 64 MiB) where a node's would be:
// its pidfile and QMP socket, a cluster NIC for set_link. Running once it resolves.
export async function firmwareQemu(node: NodePlan): Promise<ChildProcess> {
	fs.mkdirSync(path.dirname(node.runtime.pidfile), {recursive: true});
	const qemu = spawn('qemu-system-x86_64', ['-S', '-display', 'none', '-nodefaults', '-accel', 'tcg', '-m', '64', '-netdev', 'user,id=cluster,restrict=on', '-device', 'virtio-net-pci,netdev=cluster', '-chardev', `socket,id=qmp,path=${node.runtime.qmpSocket},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control', '-pidfile', node.runtime.pidfile], {stdio: 'ignore'});
	try {
		const deadline = Date.now() + 20_000;
		while (!fs.existsSync(node.runtime.pidfile) || !fs.existsSync(node.runtime.qmpSocket)) {
			if (Date.now() > deadline) throw new Error('QEMU did not start within 20 s');
			await new Promise(resolve => setTimeout(resolve, 50));
		}
		await qmpAction(node, 'cont');
	} catch (error) {
		// A QEMU left behind would keep the test process alive for ever.
		qemu.kill('SIGKILL');
		throw error;
	}
	return qemu;
}
