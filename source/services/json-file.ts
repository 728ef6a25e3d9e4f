import fs from 'node:fs/promises';
import type {z} from 'zod';
import {fieldPath, printable} from '../model/field-error.js';

// Every file the tool reads back (state, caches, pins, stamps) goes through
// a schema here: an empty, corrupt or wrong-shaped file is a value that says
// what is wrong with it, never a bare SyntaxError or TypeError later on.
// What to do with a bad one (rebuild a cache, report a state file) is the caller's.

export type JsonFileRead<T> = {status: 'absent'} | {status: 'ok'; value: T} | {status: 'bad'; why: string};

export async function readJsonFile<T>(file: string, schema: z.ZodType<T>): Promise<JsonFileRead<T>> {
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') return {status: 'absent'};
		return {status: 'bad', why: `cannot be read (${code ?? printable((error as Error).message)})`};
	}
	return parseJsonText(text, schema);
}

export function parseJsonText<T>(text: string, schema: z.ZodType<T>): JsonFileRead<T> {
	if (text.trim() === '') return {status: 'bad', why: 'is empty'};
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (error) {
		return {status: 'bad', why: `is not valid JSON (${printable((error as Error).message.split('\n')[0] ?? '')})`};
	}
	const result = schema.safeParse(data);
	if (result.success) return {status: 'ok', value: result.data};
	const issue = result.error.issues[0]!;
	const where = issue.path.length > 0 ? `${fieldPath(issue.path)}: ` : '';
	return {status: 'bad', why: `does not have the expected shape (${where}${printable(issue.message)})`};
}
