import type {z} from 'zod';
import {type FieldError, fieldError, fieldPath, printable} from './field-error.js';
import {nearestKey} from './nearest-key.js';

type Schema = z.core.$ZodType;

// The object schema a path leads to, following the input where a union needs
// it to choose (a check's keys depend on its type). Undefined for records.
function objectAt(schema: Schema, path: readonly PropertyKey[], input: unknown): z.core.$ZodObject | undefined {
	const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
	if ('innerType' in def) return objectAt(def.innerType as Schema, path, input);
	if (def.type === 'union') {
		const discriminator = def['discriminator'] as string | undefined;
		const value = discriminator && isRecord(input) ? input[discriminator] : undefined;
		const option = (def['options'] as Schema[]).find(o => {
			const shape = (o as z.core.$ZodObject)._zod.def.shape;
			return discriminator !== undefined && shape?.[discriminator]?._zod.values?.has(value as z.core.util.Primitive);
		});
		return option ? objectAt(option, path, input) : undefined;
	}
	const [step, ...rest] = path;
	if (def.type === 'object') {
		const object = schema as z.core.$ZodObject;
		if (step === undefined) return object;
		const field = object._zod.def.shape[String(step)];
		return field && isRecord(input) ? objectAt(field, rest, input[String(step)]) : undefined;
	}
	if (def.type === 'array' && typeof step === 'number' && Array.isArray(input)) return objectAt(def['element'] as Schema, rest, input[step]);
	return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// One error per unknown key, naming its full path and the known key it most likely meant.
export function unknownKeyErrors(schema: Schema, input: unknown, issue: z.core.$ZodIssueUnrecognizedKeys): FieldError[] {
	const known = Object.keys(objectAt(schema, issue.path, input)?._zod.def.shape ?? {});
	return issue.keys.map(key => {
		const field = fieldPath([...issue.path, key]);
		const meant = nearestKey(key, known);
		if (meant) return fieldError(field, `unknown key "${printable(key)}" (did you mean "${meant}"?)`, `rename it to ${meant}, or remove it`);
		const allowed = known.length > 0 ? `; the keys allowed here are ${known.join(', ')}` : '';
		return fieldError(field, `unknown key "${printable(key)}"`, `remove it${allowed}`);
	});
}
