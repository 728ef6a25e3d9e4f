// An error a person can act on: which field, what is wrong, what to do.
export type FieldError = {
	field: string;
	message: string;
	fix: string;
};

export function fieldError(field: string, message: string, fix: string): FieldError {
	return {field, message, fix};
}

export function formatFieldError(error: FieldError): string {
	return `${error.field}: ${error.message} (fix: ${error.fix})`;
}

export function formatFieldErrors(errors: readonly FieldError[]): string {
	return errors.map(formatFieldError).join('\n');
}
