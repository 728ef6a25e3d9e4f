import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';
import {z} from 'zod';
import {checkCatalog} from '../../source/services/checks/catalog.js';
import {CheckFailure, defineCheck, type CheckContext, type NodeAccess} from '../../source/services/checks/check-definition.js';
import {CHECK_DEFINITIONS, CHECKS} from '../../source/services/checks/registry.js';
import {checkSchema} from '../../source/model/profile-schema.js';
import {parseProfile} from '../../source/model/parse-profile.js';
import {fieldError} from '../../source/model/field-error.js';
import type {NodeSsh} from '../../source/services/ssh.js';
import {planIn, template, tempDir} from '../helpers.js';

const TYPES = CHECK_DEFINITIONS.map(d => d.type);

test('every registered check type is complete: strict params with a valid example, a scope, a name, a port when it has one, and run', () => {
	assert.equal(new Set(TYPES).size, TYPES.length, 'each type is registered once');
	for (const definition of CHECK_DEFINITIONS) {
		const what = definition.type;
		assert.match(definition.type, /^[a-z][a-z0-9-]*$/, what);
		assert.ok(definition.scope === 'node' || definition.scope === 'cluster', what);
		assert.equal(typeof definition.run, 'function', what);
		assert.ok(definition.params.safeParse(definition.example).success, `${what}: its example is valid`);
		assert.equal(definition.params.safeParse({...definition.example, surplus: 1}).success, false, `${what}: params refuse unknown keys`);
		const spec = definition.schema.parse({type: definition.type, ...definition.example});
		assert.ok(definition.name(spec as never).length > 0, `${what}: has a name`);
		// A type with a port parameter says so, so the plan and the check editor show and edit it.
		assert.equal(typeof definition.port === 'function', 'port' in definition.params.shape, `${what}: port() exactly when it has a port`);
		if (definition.port) assert.equal(definition.port(spec as never), (spec as {port: number}).port, what);
		assert.deepEqual(CHECKS.rules(spec as never, 'checks[0]'), [], `${what}: its example breaks no rule`);
	}
});

test("the profile's check union accepts every type with its parameters and refuses an unknown type or parameter", () => {
	for (const definition of CHECK_DEFINITIONS) {
		const parsed = checkSchema.safeParse({type: definition.type, ...definition.example});
		assert.ok(parsed.success, `${definition.type}: ${JSON.stringify(parsed.error?.issues)}`);
		assert.equal(parsed.data.timeoutSec, 60, `${definition.type} gets the common defaults`);
		assert.equal(checkSchema.safeParse({type: definition.type, ...definition.example, surplus: 1}).success, false, `${definition.type} with an unknown key`);
	}
	const profile = {name: 'x', nodes: [{name: 'node01'}]};
	assert.deepEqual(parseProfile({...profile, checks: [{type: 'ping-all'}]}), {ok: false, errors: [fieldError('checks[0].type', 'does not match any known form', "check checks[0].type against the README's profile reference")]});
	assert.deepEqual(parseProfile({...profile, checks: [{type: 'tcp-port', port: 2379, prot: 2380}]}), {ok: false, errors: [fieldError('checks[0].prot', 'unknown key "prot" (did you mean "port"?)', 'rename it to port, or remove it')]});
	// The common fields are part of every form; a misspelt one is refused too.
	assert.deepEqual(parseProfile({...profile, checks: [{type: 'ssh', timeout: 5}]}), {ok: false, errors: [fieldError('checks[0].timeout', 'unknown key "timeout" (did you mean "timeoutSec"?)', 'rename it to timeoutSec, or remove it')]});
});

// A check type that exists only in this test: one definition, nothing else.
const markerFileCheck = defineCheck({
	type: 'marker-file',
	params: z.strictObject({path: z.string(), contains: z.string().default('ok')}),
	example: {path: '/run/marker'},
	scope: 'node',
	name: spec => `marker ${spec.path}`,
	rules: (spec, at) => (spec.path.startsWith('/') ? [] : [fieldError(`${at}.path`, `${spec.path} is not an absolute path`, 'start it with /')]),
	async run(spec, {node, ssh}) {
		const result = await ssh.exec(`cat ${spec.path}`, {timeoutMs: 1000});
		if (!result.stdout.includes(spec.contains)) throw new CheckFailure(`${node.name}: ${spec.path} lacks "${spec.contains}"`);
		return `${spec.path} holds ${spec.contains}`;
	},
});

const reachableCheck = defineCheck({
	type: 'reachable-count',
	params: z.strictObject({atLeast: z.number().int()}),
	example: {atLeast: 1},
	scope: 'cluster',
	name: spec => `at least ${spec.atLeast} reachable`,
	async run(spec, context) {
		if (context.nodes.length < spec.atLeast) throw new CheckFailure(`${context.nodes.length} of ${spec.atLeast} reachable`);
		return `${context.nodes.length} reachable`;
	},
});

test('a new check type is one definition: schema, name, rules and dispatch all follow from it', async () => {
	const catalog = checkCatalog([...CHECK_DEFINITIONS, markerFileCheck, reachableCheck]);
	assert.equal(CHECKS.schema.safeParse({type: 'marker-file', path: '/run/marker'}).success, false, 'not a type of the real registry');
	const spec = catalog.schema.parse({type: 'marker-file', path: '/run/marker'});
	assert.deepEqual(spec, {type: 'marker-file', path: '/run/marker', contains: 'ok', timeoutSec: 60});
	assert.equal(catalog.schema.safeParse({type: 'marker-file', path: '/run/marker', mode: 1}).success, false);
	assert.equal(catalog.name(spec), 'marker /run/marker');
	assert.equal(catalog.name({...spec, name: 'marker written'}), 'marker written');
	assert.equal(catalog.port(spec), undefined);
	assert.deepEqual(catalog.rules({...spec, path: 'run/marker', timeoutSec: 0}, 'checks[3]'), [
		fieldError('checks[3].timeoutSec', '0 s is not a usable timeout', 'set timeoutSec to 1 or more'),
		fieldError('checks[3].path', 'run/marker is not an absolute path', 'start it with /'),
	]);
	// The registered types keep their names and rules in the larger catalog.
	const demo = template('demo').checks;
	assert.deepEqual(demo.map(catalog.name), demo.map(CHECKS.name));

	const plan = planIn(tempDir(), template('demo'));
	const commands: string[] = [];
	const nodes: NodeAccess[] = plan.nodes.map(node => ({
		node,
		ssh: {
			async exec(command: string) {
				commands.push(`${node.name}: ${command}`);
				return {code: 0, stdout: node.name === plan.nodes[0]!.name ? 'ok\n' : '', stderr: ''};
			},
		} as unknown as NodeSsh,
	}));
	const context: CheckContext = {plan, nodes, timeoutMs: 1000};
	assert.equal(catalog.isClusterCheck(spec), false);
	assert.equal(await catalog.nodeCheckAttempt(spec, nodes[0]!, context), '/run/marker holds ok');
	await assert.rejects(catalog.nodeCheckAttempt(spec, nodes[1]!, context), new CheckFailure(`${plan.nodes[1]!.name}: /run/marker lacks "ok"`));
	assert.deepEqual(commands, [`${plan.nodes[0]!.name}: cat /run/marker`, `${plan.nodes[1]!.name}: cat /run/marker`]);
	await assert.rejects(catalog.clusterCheckAttempt(spec, context), /marker-file is a node check/);

	const cluster = catalog.schema.parse({type: 'reachable-count', atLeast: 2});
	assert.equal(catalog.isClusterCheck(cluster), true);
	assert.equal(await catalog.clusterCheckAttempt(cluster, context), `${nodes.length} reachable`);
	await assert.rejects(catalog.clusterCheckAttempt(cluster, {...context, nodes: nodes.slice(0, 1)}), /1 of 2 reachable/);
	await assert.rejects(catalog.nodeCheckAttempt(cluster, nodes[0]!, context), /reachable-count is a cluster check/);
	assert.throws(() => checkCatalog([markerFileCheck, markerFileCheck]), /marker-file is defined twice/);
});

function sourceFiles(dir: string): string[] {
	return readdirSync(dir).flatMap(entry => {
		const file = path.join(dir, entry);
		return statSync(file).isDirectory() ? sourceFiles(file) : /\.tsx?$/.test(entry) ? [file] : [];
	});
}

test('no code outside source/services/checks/ tests or lists check types', () => {
	const checksDir = path.join('source', 'services', 'checks');
	const alternatives = TYPES.map(type => type.replaceAll('-', '\\-')).join('|');
	const comparison = new RegExp(`(case\\s*|[!=]==?\\s*)['"\`](${alternatives})['"\`]|['"\`](${alternatives})['"\`]\\s*[!=]==?`);
	const literal = new RegExp(`['"\`](${alternatives})['"\`]`, 'g');
	const found: string[] = [];
	for (const file of sourceFiles('source').filter(f => !f.startsWith(checksDir + path.sep))) {
		readFileSync(file, 'utf8')
			.split('\n')
			.forEach((line, index) => {
				const types = new Set([...line.matchAll(literal)].map(match => match[1]));
				if (comparison.test(line) || types.size > 1) found.push(`${file}:${index + 1}: ${line.trim()}`);
			});
	}
	assert.deepEqual(found, []);
});
