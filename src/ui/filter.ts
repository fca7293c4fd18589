// `/`: which resources the table shows. Pure; the problems panel keeps counting all of them, so
// a filter never hides trouble, it says how much it hides.
import type { Problem } from '../cluster/problems.js';
import type { ResourceRow } from '../cluster/model.js';

/** Rows whose `name/volume` contains `text`, case-insensitive; an empty (or blank) filter shows all. */
export function filterRows(rows: readonly ResourceRow[], text: string): ResourceRow[] {
  const t = text.trim().toLowerCase();
  return t === '' ? [...rows] : rows.filter((r) => r.key.toLowerCase().includes(t));
}

/** What the filter line says about what it hides: `3 hidden by filter (1 with problems)`; '' when nothing is. */
export function hiddenText(all: readonly ResourceRow[], shown: readonly ResourceRow[], problems: readonly Problem[]): string {
  const hidden = all.filter((r) => !shown.includes(r));
  if (hidden.length === 0) return '';
  const names = new Set(hidden.map((r) => r.resource));
  const shownNames = new Set(shown.map((r) => r.resource));
  const troubled = problems.filter((p) => p.resource !== undefined && names.has(p.resource) && !shownNames.has(p.resource)).length;
  return `${hidden.length} hidden by filter${troubled > 0 ? ` (${troubled} problem${troubled === 1 ? '' : 's'} among them)` : ''}`;
}
