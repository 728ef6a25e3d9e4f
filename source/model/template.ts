// `{name}` placeholders filled from vars; unknown ones stay as they are.
export function fillTemplate(template: string, vars: Record<string, string | number>): string {
	return template.replace(/\{([a-zA-Z]+)\}/g, (whole, key: string) => (key in vars ? String(vars[key]) : whole));
}
