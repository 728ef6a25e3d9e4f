import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import {execa} from 'execa';
import {createDisk} from '../../source/services/qemu.js';
import {hostTools, planIn, skipUnless, tempDir} from '../helpers.js';

const skip = skipUnless(await hostTools({'qemu-img': 'qemu-utils'}));

// A node's disk holds its snapshots: lazy refcounts make the rollback copy a restore takes right after
// an earlier restore 0.4-0.6 s instead of 2.2-2.9 s per node (bench/README.md, snapshot).
test('a node disk is a qcow2 with lazy refcounts, created once and kept after', {skip}, async () => {
	const home = tempDir('plasma-disk-');
	const node = planIn(home).nodes[0]!;
	assert.equal(await createDisk(node), 'created');
	const info = JSON.parse((await execa('qemu-img', ['info', '--output=json', node.disk.path])).stdout) as {format: string; 'virtual-size': number; 'format-specific': {data: {'lazy-refcounts': boolean}}};
	assert.equal(info.format, 'qcow2');
	assert.equal(info['virtual-size'], node.disk.sizeGiB * 2 ** 30);
	assert.equal(info['format-specific'].data['lazy-refcounts'], true);
	assert.equal(await createDisk(node), 'kept');
	await fs.rm(home, {recursive: true, force: true});
});
