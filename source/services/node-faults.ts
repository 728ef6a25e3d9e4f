import {ProblemError} from '../model/field-error.js';
import {GUEST_NICS, type NodePlan, type Plan} from '../model/plan.js';
import {signalProcess, waitForExit} from './processes.js';
import {nodeIdentity, nodePid} from './qemu.js';
import {QmpClient} from './qmp.js';
import {manage} from './vde-manage.js';

// The faults themselves, one real thing each: QMP on a node's monitor, a
// signal to its QEMU, VLANs on the cluster switch's management socket.

const QMP_TIMEOUT_MS = 3000;

export async function withQmp<T>(node: NodePlan, work: (qmp: QmpClient) => Promise<T>): Promise<T> {
	const qmp = await QmpClient.connect(node.runtime.qmpSocket, QMP_TIMEOUT_MS);
	try {
		return await work(qmp);
	} finally {
		qmp.close();
	}
}

export type QmpNodeAction = 'stop' | 'cont' | 'system_reset' | 'system_powerdown' | 'query-status';

export function qmpAction(node: NodePlan, action: QmpNodeAction): Promise<unknown> {
	return withQmp(node, qmp => qmp.execute(action, undefined, QMP_TIMEOUT_MS));
}

// The cluster NIC's link up or down (the guest sees its carrier go).
export function setClusterLink(node: NodePlan, up: boolean): Promise<unknown> {
	return withQmp(node, qmp => qmp.execute('set_link', {name: GUEST_NICS[0].netdev, up}, QMP_TIMEOUT_MS));
}

// What QMP says of the node now: "running", "paused", ... (the link's state is the guest's carrier: QMP has no query for it).
export async function nodeRunStatus(node: NodePlan): Promise<string> {
	const status = (await qmpAction(node, 'query-status')) as {status?: string};
	return status.status ?? 'unknown';
}

// SIGKILL: the VM dies the way a host loses power, no shutdown.
export async function killNode(node: NodePlan, plan: Plan): Promise<number> {
	const pid = await nodePid(node, plan);
	if (!pid) throw new ProblemError({message: `${node.name} is not running (no QEMU behind ${node.runtime.pidfile})`});
	const error = signalProcess(pid, 'SIGKILL');
	if (error) throw new ProblemError({message: `${node.name}: kill ${pid}: ${error}`});
	if (!(await waitForExit(pid, nodeIdentity(node), 5000))) throw new ProblemError({message: `${node.name}: QEMU ${pid} still runs 5 s after SIGKILL`});
	return pid;
}

// Waits for a powered-down node's QEMU to exit (a guest that ignores ACPI keeps running).
export async function waitForNodeExit(node: NodePlan, plan: Plan, timeoutMs: number): Promise<boolean> {
	const pid = await nodePid(node, plan);
	return pid === undefined || waitForExit(pid, nodeIdentity(node), timeoutMs);
}

// VLAN numbers of a partition's groups: 0 is the switch's default, where every port starts.
export function partitionVlans(groups: readonly string[][]): number[] {
	return groups.map((_, index) => 101 + index);
}

// Each group's switch ports go into the group's own VLAN: frames never cross
// between VLANs, and inside a group nothing changes.
export async function applyPartition(plan: Plan, groups: readonly string[][], vlans: readonly number[]): Promise<void> {
	const commands: string[] = [];
	groups.forEach((group, index) => {
		commands.push(`vlan/create ${vlans[index]}`);
		for (const name of group) commands.push(`port/setvlan ${portOf(plan, name)} ${vlans[index]}`);
	});
	await manage(plan.vde.mgmt, commands);
}

// Every port back to VLAN 0, then the partition's VLANs removed (a missing one is not an error).
export async function healPartition(plan: Plan, groups: readonly string[][], vlans: readonly number[]): Promise<void> {
	await manage(plan.vde.mgmt, groups.flat().map(name => `port/setvlan ${portOf(plan, name)} 0`));
	for (const vlan of vlans) await manage(plan.vde.mgmt, [`vlan/remove ${vlan}`]).catch(() => undefined);
}

function portOf(plan: Plan, name: string): number {
	const node = plan.nodes.find(n => n.name === name);
	if (!node) throw new ProblemError({message: `unknown node "${name}"`});
	return node.link.switchPort;
}
