// Which items of a list to show so that the focused one is visible and the
// shown items fit in `budget` rows. Items have heights (a field with an error
// takes two rows). When not everything fits, two rows are kept for the
// "more above" / "more below" markers.
export function windowAround(heights: number[], focus: number, budget: number): {start: number; end: number} {
	const total = heights.reduce((sum, h) => sum + h, 0);
	if (total <= budget || heights.length === 0) return {start: 0, end: heights.length};
	const at = Math.min(Math.max(0, focus), heights.length - 1);
	const room = Math.max(1, budget - 2);
	let start = at;
	let end = at + 1;
	let used = heights[at]!;
	// Grow one item at a time, alternating below and above, so the cursor stays near the middle.
	for (let grew = true; grew; ) {
		grew = false;
		if (end < heights.length && used + heights[end]! <= room) {
			used += heights[end]!;
			end++;
			grew = true;
		}
		if (start > 0 && used + heights[start - 1]! <= room) {
			start--;
			used += heights[start]!;
			grew = true;
		}
	}
	return {start, end};
}

export function moreAbove(start: number, what = 'more above'): string | undefined {
	return start > 0 ? `  ↑ ${start} ${what}` : undefined;
}

export function moreBelow(end: number, length: number, what = 'more below'): string | undefined {
	return end < length ? `  ↓ ${length - end} ${what}` : undefined;
}
