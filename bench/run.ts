import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {benchCertificates} from './certificates.js';
import {benchColdStart} from './cold-start.js';
import {benchConsoleFlood} from './console-flood.js';
import {benchPreflight} from './preflight.js';
import {benchUp} from './up-phases.js';
import {benchSnapshot} from './snapshot.js';
import {benchFaults} from './faults.js';
import {benchFlow} from './flow.js';
import {benchScale} from './scale.js';
import {type BenchReport, type BenchRow, formatTable, machineFacts, round, writeReport} from './result.js';

// `npm run bench`: every benchmark in turn, one table, one JSON report.
// The suites that boot VMs run last, once, under the machine-wide VM lock.

type Suite = {name: string; run: () => Promise<{rows: BenchRow[]; details: unknown}>};

const SUITES: Suite[] = [
	{name: 'certificates', run: benchCertificates},
	{name: 'cold-start', run: benchColdStart},
	{name: 'console-flood', run: benchConsoleFlood},
	{name: 'preflight', run: benchPreflight},
	{name: 'up', run: benchUp},
	{name: 'snapshot', run: benchSnapshot},
	{name: 'faults', run: benchFaults},
	{name: 'flow', run: benchFlow},
	{name: 'scale', run: benchScale},
];

const USAGE = `npm run bench [-- --only SUITE[,SUITE]] [-- --skip SUITE[,SUITE]]
suites: ${SUITES.map(s => s.name).join(', ')}`;

async function main(): Promise<number> {
	const {values} = parseArgs({options: {only: {type: 'string'}, skip: {type: 'string'}, help: {type: 'boolean', short: 'h'}}, strict: true});
	if (values.help) {
		console.log(USAGE);
		return 0;
	}
	const list = (text?: string) => (text ? text.split(',').map(s => s.trim()) : []);
	const only = list(values.only);
	const skip = list(values.skip);
	const unknown = [...only, ...skip].filter(name => !SUITES.some(s => s.name === name));
	if (unknown.length > 0) {
		console.error(`unknown suite(s): ${unknown.join(', ')}\n${USAGE}`);
		return 2;
	}
	const chosen = SUITES.filter(s => (only.length === 0 || only.includes(s.name)) && !skip.includes(s.name));
	const startedAt = new Date().toISOString();
	const machine = machineFacts();
	const rows: BenchRow[] = [];
	const details: Record<string, unknown> = {};
	for (const suite of chosen) {
		const started = Date.now();
		process.stderr.write(`bench: ${suite.name} ...\n`);
		const result = await suite.run();
		rows.push(...result.rows);
		details[suite.name] = result.details;
		process.stderr.write(`bench: ${suite.name} took ${round((Date.now() - started) / 1000)} s\n`);
	}
	const report: BenchReport = {startedAt, finishedAt: new Date().toISOString(), machine: {...machine, loadAverageAtEnd: os.loadavg().map(v => round(v, 2))}, suites: chosen.map(s => s.name), rows, details};
	const file = await writeReport(path.join(path.dirname(fileURLToPath(import.meta.url)), 'results'), report);
	console.log(formatTable(rows));
	console.log(`\n${machine.cpus} CPUs (${machine.cpuModel}), load ${machine.loadAverageAtStart.join(' ')} at start, ${report.machine.loadAverageAtEnd.join(' ')} at end; node ${machine.node}`);
	console.log(`written: ${path.relative(process.cwd(), file)} and bench/results/latest.json (see bench/README.md)`);
	return rows.some(r => r.status === 'error') ? 1 : 0;
}

main().then(
	code => {
		process.exitCode = code;
		// A benchmark must not hang on a handle something left open: say what it was and leave.
		setTimeout(() => {
			process.stderr.write(`bench: still open 5 s after the report: ${process.getActiveResourcesInfo().join(', ')}; exiting\n`);
			process.exit(code);
		}, 5000).unref();
	},
	(error: unknown) => {
		console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
		process.exitCode = 1;
	},
);
