import fs from 'node:fs/promises';
import {plainEventPrinter} from '../model/events.js';
import {formatProblems} from '../model/field-error.js';
import {buildPlan, workDirFor} from '../model/plan.js';
import {contractMet, doctorProfile, doctorWorkDir, formatContractPart, needsBootTest} from '../model/guest-check.js';
import {chosenAccel, formatFinding, runPreflight, type Finding} from '../services/preflight.js';
import {EXIT, planContext, planFor, profileFromOptions, underWorkLock} from './common.js';
import {abortOnSignals} from './interrupt.js';
import type {CommandRun} from './registry.js';

// Findings that make a boot test pointless; the profile's own ports and earlier runs do not
// matter to it (it boots on free ports in a work directory of its own).
const blocksBootTest = (finding: Finding) => finding.status === 'fail' && (finding.id.startsWith('tool:') || finding.id.startsWith('boot:') || finding.id === 'ram' || finding.id === 'accel');

export const run: CommandRun = async ({values}) => {
	const profile = await profileFromOptions(values, 'doctor');
	if (!profile) return EXIT.badInput;
	const findings = await runPreflight(planFor(profile));
	for (const finding of findings) console.log(formatFinding(finding));
	const preflightFailed = findings.some(f => f.status === 'fail');
	if (!needsBootTest(profile, values['boot-test'] === true)) return preflightFailed ? EXIT.failed : EXIT.ok;
	const blocking = findings.filter(blocksBootTest);
	if (blocking.length > 0) {
		console.log(`boot test not run: ${blocking.map(f => f.message).join('; ')}`);
		return EXIT.failed;
	}
	const timeoutSec = typeof values['timeout'] === 'string' ? Number(values['timeout']) : profile.boot.sshTimeoutSec;
	if (!Number.isInteger(timeoutSec) || timeoutSec <= 0) {
		console.error('plasma-tui doctor: --timeout takes a whole number of seconds, e.g. --timeout 120');
		return EXIT.badInput;
	}
	const context = planContext(chosenAccel(findings));
	const workDir = doctorWorkDir(workDirFor(profile, context));
	const nodeCount = Math.min(2, profile.nodes.length);
	const {freeLoopbackPorts} = await import('../services/free-port.js');
	const test = doctorProfile(profile, {workDir, sshPorts: await freeLoopbackPorts(nodeCount), nodeCount});
	const plan = buildPlan(test, context);
	if (plan.problems.length > 0) {
		console.error(`plasma-tui doctor: the boot test's plan has problems:\n${formatProblems(plan.problems)}`);
		return EXIT.badInput;
	}
	console.log(`boot test: ${plan.nodes.map(n => n.name).join(' and ')} of ${profile.name} in ${workDir} (${plan.accel.toUpperCase()}, up to ${timeoutSec} s per wait)`);
	const controller = new AbortController();
	const releaseSignals = abortOnSignals(controller);
	let met = false;
	try {
		const code = await underWorkLock(plan, 'doctor', async () => {
			const {checkGuestContract} = await import('../engine/guest-check.js');
			const printProgress = plainEventPrinter(line => console.error(line), {skip: event => event.type === 'console'});
			const parts = await checkGuestContract(test, plan, {onEvent: printProgress, signal: controller.signal, timeoutMs: timeoutSec * 1000});
			for (const part of parts) console.log(formatContractPart(part));
			met = contractMet(parts) && !controller.signal.aborted;
			console.log(met ? 'guest contract met' : `guest contract not met; console logs: ${plan.nodes.map(n => n.runtime.consoleLog).join(', ')}`);
			return met && !preflightFailed ? EXIT.ok : EXIT.failed;
		});
		// Everything it started is stopped (its state file says so): nothing in it is worth keeping.
		if (met) await fs.rm(workDir, {recursive: true, force: true});
		return code;
	} finally {
		releaseSignals();
	}
};
