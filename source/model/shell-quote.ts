// Single quotes for the remote shell: no value can become shell syntax.
export function shellQuote(value: string): string {
	return `'${value.replaceAll("'", `'\\''`)}'`;
}
