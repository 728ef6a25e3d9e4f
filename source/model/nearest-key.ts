// Edit distance with adjacent transpositions counted as one edit
// (optimal string alignment): "tiemout" is one typo away from "timeout".
export function editDistance(a: string, b: string): number {
	const rows: number[][] = Array.from({length: a.length + 1}, (_, i) => [i]);
	for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
	for (let i = 1; i <= a.length; i++) {
		for (let j = 1; j <= b.length; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1;
			let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
			rows[i]![j] = best;
		}
	}
	return rows[a.length]![b.length]!;
}

// The known key a misspelt one most likely meant, ignoring case. A third of
// the longer name may differ (at least one edit), so "timeout" finds
// "timeoutSec" but "x" or "image" suggest nothing. Ties go to the earlier key.
export function nearestKey(key: string, known: readonly string[]): string | undefined {
	let nearest: string | undefined;
	let nearestDistance = Infinity;
	for (const candidate of known) {
		const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
		const allowed = Math.max(1, Math.floor(Math.max(key.length, candidate.length) / 3));
		if (distance <= allowed && distance < nearestDistance) {
			nearest = candidate;
			nearestDistance = distance;
		}
	}
	return nearest;
}
