import {checkCatalog} from './catalog.js';
import {commandCheck} from './command.js';
import {crudCheck} from './crud.js';
import {hostsResolveCheck} from './hosts-resolve.js';
import {httpCheck} from './http.js';
import {l2MeshCheck} from './l2-mesh.js';
import {metricsCheck} from './metrics.js';
import {persistenceCheck} from './persistence.js';
import {persistenceAcrossRestartCheck} from './persistence-across-restart.js';
import {proxyCrudCheck} from './proxy-crud.js';
import {raftQuorumCheck} from './raft-quorum.js';
import {sshCheck} from './ssh.js';
import {systemdUnitCheck} from './systemd-unit.js';
import {tcpPortCheck} from './tcp-port.js';
import {tlsCheck} from './tls.js';
import type {CheckSpec} from '../../model/profile-schema.js';

// Every check type a profile can use. A new type is a file in this folder and a line here.
export const CHECK_DEFINITIONS = [
	sshCheck,
	l2MeshCheck,
	hostsResolveCheck,
	tcpPortCheck,
	httpCheck,
	raftQuorumCheck,
	crudCheck,
	persistenceCheck,
	persistenceAcrossRestartCheck,
	proxyCrudCheck,
	metricsCheck,
	tlsCheck,
	systemdUnitCheck,
	commandCheck,
] as const;

export const CHECKS = checkCatalog(CHECK_DEFINITIONS);

export const {name: checkName, port: checkPort, isClusterCheck, runsOn, nodeCheckAttempt, clusterCheckAttempt, changesNode, startsWhen} = CHECKS;
export {CheckFailure, type CheckContext, type NodeAccess} from './check-definition.js';

// The checks that leave every node as it was. A check that changes a node (persistence restarts etcd)
// is left out, with why, where running it would disturb what is being looked at: watch mode (watching
// must not cause what it watches for) and a snapshot restore (it must not change what it brought back).
export function checksThatChangeNothing(checks: readonly CheckSpec[]): {checks: CheckSpec[]; left: Array<{check: string; why: string}>} {
	const left = checks.flatMap(spec => {
		const why = changesNode(spec);
		return why ? [{check: checkName(spec), why}] : [];
	});
	return {checks: checks.filter(spec => !changesNode(spec)), left};
}
