// Stands in for three noisy guests: appends console-like lines to each file at
// a fixed byte rate, in small steps, as QEMU's chardev logfile does. Runs in
// its own process so the writing does not count against the measured event loop.
// Usage: node bench/flood-writer.mjs BYTES_PER_SECOND SECONDS FILE...
// Prints one JSON line when done: {bytesPerFile, seconds}.
import fs from 'node:fs';

const [rateText, secondsText, ...files] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const STEP_MS = 20;

// Kernel- and shell-like lines, some with colour escapes and carriage returns.
const words = ['virtio_net', 'etcd', 'raft', 'sshd', 'eth0', 'link up', 'applying entry', 'heartbeat', 'tick', 'wal', 'snapshot', 'peer', 'lease'];
const pool = Array.from({length: 257}, (_, i) => {
	const text = Array.from({length: 12}, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' ');
	const colour = i % 11 === 0 ? '\u001B[1;31m' : '';
	return `[${(i * 0.137).toFixed(6).padStart(12)}] ${colour}${text}${colour ? '\u001B[0m' : ''} #${i}\r\n`;
});

const handles = files.map(file => fs.openSync(file, 'a'));
const written = files.map(() => 0);
const started = Date.now();
let next = 0;

function step() {
	const elapsed = (Date.now() - started) / 1000;
	const due = Math.min(elapsed, seconds) * rate;
	handles.forEach((handle, index) => {
		const parts = [];
		let size = 0;
		while (written[index] + size < due) {
			const line = pool[next++ % pool.length];
			parts.push(line);
			size += line.length; // ASCII only: characters are bytes
		}
		if (size > 0) {
			fs.writeSync(handle, parts.join(''));
			written[index] += size;
		}
	});
	if (elapsed >= seconds) {
		handles.forEach(handle => fs.closeSync(handle));
		console.log(JSON.stringify({bytesPerFile: written, seconds: (Date.now() - started) / 1000}));
		return;
	}
	setTimeout(step, STEP_MS);
}
console.log('started');
step();
