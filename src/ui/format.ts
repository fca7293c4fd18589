// Small text formatters shared by the views (pure, width-aware).

/** Cuts to `width` cells with an ellipsis, or pads with blanks. */
export function fit(s: string, width: number): string {
  if (width <= 0) return '';
  if (s.length > width) return width === 1 ? '…' : s.slice(0, width - 1) + '…';
  return s.padEnd(width);
}

export function truncate(s: string, width: number): string {
  if (width <= 0) return '';
  return s.length > width ? (width === 1 ? '…' : s.slice(0, width - 1) + '…') : s;
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** The last `width` values as block characters scaled to the largest. */
export function sparkline(values: number[], width: number): string {
  const v = values.slice(-width);
  const max = Math.max(0, ...v);
  if (max === 0) return v.map(() => BLOCKS[0]).join('');
  return v.map((x) => BLOCKS[Math.min(BLOCKS.length - 1, Math.round((Math.max(0, x) / max) * (BLOCKS.length - 1)))]).join('');
}

/** `[██████░░░░]` of total width `width` (brackets included). */
export function progressBar(donePct: number, width: number): string {
  const inner = Math.max(1, width - 2);
  const full = Math.round((Math.min(100, Math.max(0, donePct)) / 100) * inner);
  return '[' + '█'.repeat(full) + '░'.repeat(inner - full) + ']';
}

export function fmtEta(s: number | undefined): string {
  if (s === undefined) return '';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** How long ago, in the unit that matters at that age: `12 s`, `4 min`, `3 h`. */
export function fmtAge(ms: number): string {
  const t = Math.max(0, ms);
  if (t < MINUTE) return `${Math.floor(t / SECOND)} s`;
  if (t < HOUR) return `${Math.floor(t / MINUTE)} min`;
  return `${Math.floor(t / HOUR)} h`;
}

/** Milliseconds until fmtAge(ms) reads differently. */
export function untilAgeChanges(ms: number): number {
  const t = Math.max(0, ms);
  const unit = t < MINUTE ? SECOND : t < HOUR ? MINUTE : HOUR;
  return unit - (t % unit);
}

export function fmtKiB(k: number): string {
  if (k < 1024) return `${k} KiB`;
  if (k < 1024 * 1024) return `${(k / 1024).toFixed(1)} MiB`;
  return `${(k / 1024 / 1024).toFixed(2)} GiB`;
}

/** HH:MM:SS of an events2 timestamp as written (the host's own clock and offset). */
export function clockOf(iso: string): string {
  const m = /T(\d\d:\d\d:\d\d)/.exec(iso);
  return m ? m[1]! : '--:--:--';
}
