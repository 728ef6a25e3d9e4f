import {stat} from 'node:fs/promises';
import {ensureDemoImage, readStamp} from '../services/image.js';
import {toolPaths} from '../services/paths.js';
import {formatGuestContract, guestContract} from '../model/guest-contract.js';
import {EXIT, planFor, profileFromOptions} from './common.js';
import {abortOnSignals} from './interrupt.js';
import type {CommandRun} from './registry.js';

export const run: CommandRun = async ({values}) => {
	if (values['contract'] === true) return printContract(values);
	const {imageDir} = toolPaths();
	// The build runs in its own process group: a signal must stop it, not leave it running.
	const controller = new AbortController();
	const releaseSignals = abortOnSignals(controller);
	try {
		const image = await ensureDemoImage(imageDir, {rebuild: values['rebuild'] === true, signal: controller.signal, onLine: line => console.log(`image: ${line}`)});
		const sizes = await Promise.all([stat(image.kernel), stat(image.initrd)]);
		console.log(`${image.built ? 'built' : 'cached'}: ${imageDir}`);
		console.log(`  kernel ${image.kernel} (${(sizes[0].size / 2 ** 20).toFixed(1)} MiB)`);
		console.log(`  initrd ${image.initrd} (${(sizes[1].size / 2 ** 20).toFixed(1)} MiB)`);
		const stamp = await readStamp(image.stampFile);
		if (stamp) console.log(`  stamp ${stamp.stamp.slice(0, 16)} built ${stamp.builtAt}`);
		for (const line of image.versions.trim().split('\n')) console.log(`  ${line}`);
		return EXIT.ok;
	} catch (error) {
		console.error(`plasma-tui image: ${(error as Error).message}`);
		return controller.signal.aborted ? 130 : EXIT.failed;
	} finally {
		releaseSignals();
	}
};

// What a custom netboot image must do, with the profile's own values (default: the demo's).
async function printContract(values: Parameters<CommandRun>[0]['values']): Promise<number> {
	const profile = await profileFromOptions(values, 'image');
	if (!profile) return EXIT.badInput;
	for (const line of formatGuestContract(guestContract(planFor(profile)))) console.log(line);
	return EXIT.ok;
}
