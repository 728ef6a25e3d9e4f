#!/usr/bin/env node
import {parseArgs} from 'node:util';
import {COMMANDS, commandFor, type CommandName, type CommandOptions, isCommandName} from './commands/registry.js';

// Entry point. Nothing heavy is imported here: `--help` and the headless
// commands must not pay for Ink, React or the certificate library.

const GLOBAL_HELP = `plasma-tui: from nothing to a verified multi-node VM cluster on one Linux host

Usage
  plasma-tui                      open the wizard (TUI); resumes a saved draft
  plasma-tui <command> [options]

Commands
${Object.entries(COMMANDS)
	.map(([name, command]) => `  ${name.padEnd(30)}  ${command.summary}`)
	.join('\n')}

Common options
  --profile NAME        a saved profile or built-in template (default: demo)
  --profile-file PATH   a profile exported as a plain JSON file
  --help                help for a command: plasma-tui <command> --help

Profiles, drafts and work files live under ~/.config/plasma-tui and ~/.local/share/plasma-tui
(or $PLASMA_TUI_HOME when set).`;

function commandHelp(name: CommandName): string {
	const command = commandFor(name);
	const options = command.options.map(([flag, text]) => `  ${flag.padEnd(22)}  ${text}`).join('\n');
	return `plasma-tui ${name}: ${command.summary}\n\nUsage\n  plasma-tui ${command.usage}\n${options ? `\nOptions\n${options}\n` : ''}${command.details ? `\n${command.details}\n` : ''}`;
}

async function main(argv: string[]): Promise<number> {
	const [first, ...rest] = argv;
	if (first === '--help' || first === '-h' || first === 'help') {
		const topic = rest[0];
		console.log(topic && isCommandName(topic) ? commandHelp(topic) : GLOBAL_HELP);
		return 0;
	}
	if (first === '--version') {
		const [{readFile}, {join}, {packageRoot}] = await Promise.all([import('node:fs/promises'), import('node:path'), import('./services/paths.js')]);
		const pkg = JSON.parse(await readFile(join(packageRoot(), 'package.json'), 'utf8')) as {version: string};
		console.log(pkg.version);
		return 0;
	}
	const commandName = first === undefined || first.startsWith('-') ? 'tui' : first;
	const args = first === undefined || first.startsWith('-') ? argv : rest;
	if (!isCommandName(commandName)) {
		console.error(`plasma-tui: unknown command "${commandName}"\nRun "plasma-tui --help" for the list of commands.`);
		return 2;
	}
	const command = commandFor(commandName);
	let parsed;
	try {
		parsed = parseArgs({args, options: command.parse, allowPositionals: true, strict: true});
	} catch (error) {
		console.error(`plasma-tui ${commandName}: ${(error as Error).message}\nRun "plasma-tui ${commandName} --help" for its options.`);
		return 2;
	}
	if (parsed.values['help']) {
		console.log(commandHelp(commandName));
		return 0;
	}
	const run = await command.load();
	return run({values: parsed.values as CommandOptions, positionals: parsed.positionals});
}

// `plasma-tui plan | head` closes the pipe early; that is not an error.
// EIO is a terminal that hung up (SIGHUP): the command goes on stopping what it
// started, with nowhere to print, instead of crashing and leaving it running.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
	if (error.code === 'EIO') return;
	if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
	throw error;
});
process.stderr.on('error', (error: NodeJS.ErrnoException) => {
	if (error.code !== 'EIO' && error.code !== 'EPIPE') throw error;
});

main(process.argv.slice(2)).then(
	code => {
		process.exitCode = code;
		if (process.env['PLASMA_TUI_DEBUG_HANDLES']) setTimeout(() => console.error('still open:', process.getActiveResourcesInfo().join(', ')), 3000).unref();
	},
	(error: unknown) => {
		console.error(`plasma-tui: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 1;
	},
);
