import path from 'node:path';
import {printableLine} from './printable.js';
import type {StepKind} from './scenario.js';

// What a rehearsal found, step by step, in the style of validation's report.

export type StepResult = {index: number; kind: StepKind; what: string; status: 'ok' | 'failed' | 'not-run'; detail: string; durationMs: number};

export type RehearsalReport = {
	scenario: string;
	profile: string;
	ok: boolean;
	startedAt: string;
	finishedAt: string;
	steps: StepResult[];
	// Faults still on record after the cleanup (0 unless a heal failed).
	leftActive: number;
};

const MARKS: Record<StepResult['status'], string> = {ok: '[ok]    ', failed: '[FAILED]', 'not-run': '[not run]'};

export function formatRehearsal(report: RehearsalReport): string {
	const count = (status: StepResult['status']) => report.steps.filter(s => s.status === status).length;
	const verdict = report.ok ? 'every step held' : `FAILED (${count('failed')} failed, ${count('not-run')} not run, ${count('ok')} ok)`;
	const lines = [`plasma-tui rehearsal ${report.scenario} of ${report.profile}: ${verdict} (${report.finishedAt})`, ''];
	for (const step of report.steps) {
		const took = step.status === 'not-run' ? '' : ` (${(step.durationMs / 1000).toFixed(1)} s)`;
		lines.push(`${MARKS[step.status]} ${String(step.index + 1).padStart(2)} ${printableLine(step.what)}${took}: ${printableLine(step.detail)}`);
	}
	if (report.leftActive > 0) lines.push('', `${report.leftActive} fault(s) still active: plasma-tui status lists them, plasma-tui fault heal / thaw undoes them`);
	return `${lines.join('\n')}\n`;
}

export function rehearsalFiles(plan: {rehearsalDir: string}, scenario: string): {json: string; text: string} {
	return {json: path.join(plan.rehearsalDir, `${scenario}.json`), text: path.join(plan.rehearsalDir, `${scenario}.txt`)};
}
