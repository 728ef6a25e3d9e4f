import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {ensureDemoImage} from '../../source/services/image.js';
import {assertProcessGone, tempDir} from '../helpers.js';

// The build runs in its own process group: cancelling it stops the script's children too.
test('an image build cancelled mid-way leaves no child process behind and no staging directory', async () => {
	const dir = tempDir('plasma-image-build-');
	const imageDir = path.join(dir, 'image');
	const script = path.join(dir, 'stand-in-build.sh');
	// A build step that would run for minutes, started in the background as apt-get or xz would be.
	fs.writeFileSync(script, 'mkdir -p "$1"\nsleep 600 >/dev/null 2>&1 &\necho "child $!"\nwait\n');
	const controller = new AbortController();
	let child: number | undefined;
	const build = ensureDemoImage(imageDir, {
		rebuild: true,
		buildScript: script,
		signal: controller.signal,
		onLine: line => {
			const match = /^child (\d+)$/.exec(line);
			if (!match) return;
			child = Number(match[1]);
			controller.abort(new Error('interrupted'));
		},
	});
	await assert.rejects(build, /demo image build failed \(cancelled\)/);
	assert.ok(child, 'the stand-in build printed its child pid');
	await assertProcessGone(child);
	assert.equal(fs.existsSync(`${imageDir}.building`), false, 'the half-built staging directory is removed');
	assert.equal(fs.existsSync(`${imageDir}.lock`), false, 'the build lock is released');
	fs.rmSync(dir, {recursive: true, force: true});
});
