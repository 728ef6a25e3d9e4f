// One fresh process per sample of the certificate benchmark, so the first run
// is truly cold (it loads @peculiar/x509 and reflect-metadata on first use, as
// `plasma-tui certs` and `up` do). Runs the code bundled as the binary is
// (bench/certificates-entry.ts, by scripts/bundle.mjs), under plain node (no
// tsx loader in the timings).
// Usage: node bench/certificates-worker.mjs KEY_TYPE NODES WARM_RUNS
// Prints one JSON line: {coldMs, warmMs: [...]}.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';

const [keyType = 'ecdsa-p256', nodesText = '3', warmText = '5'] = process.argv.slice(2);
const nodeCount = Number(nodesText);
const warmRuns = Number(warmText);

// bench/certificates.ts bundles bench/certificates-entry.ts here first.
const bundle = new URL('../.work/bench-certs/certificates.js', import.meta.url);
const {loadTemplate, parseProfile, buildPlan, ensureCertificates} = await import(bundle.href);

const template = loadTemplate('demo');
if (!template.ok) throw new Error('the demo template does not parse');
const nodes = Array.from({length: nodeCount}, (_, i) => ({name: `node${String(i + 1).padStart(2, '0')}`, role: 'control-plane'}));
const parsed = parseProfile({...template.profile, name: 'bench-certs', nodes, tls: {...template.profile.tls, keyType}, network: {...template.profile.network, sshPortBase: 40000}});
if (!parsed.ok) throw new Error(`bench profile invalid: ${JSON.stringify(parsed.errors)}`);

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'plasma-bench-certs-'));
// A fresh work directory per run: nothing is reused, every key and certificate is new.
async function once(index) {
	const plan = buildPlan(parsed.profile, {clustersDir: path.join(root, String(index)), imageDir: path.join(root, 'image'), home: root});
	const started = performance.now();
	const result = await ensureCertificates(plan);
	const elapsed = performance.now() - started;
	if (result.nodes.length !== nodeCount || result.ca.reused || result.nodes.some(n => n.reused)) throw new Error('certificates were reused; the benchmark needs fresh ones');
	return elapsed;
}

try {
	const coldMs = await once(0);
	const warmMs = [];
	for (let i = 1; i <= warmRuns; i++) warmMs.push(await once(i));
	console.log(JSON.stringify({coldMs, warmMs}));
} finally {
	await fs.rm(root, {recursive: true, force: true});
}
