// How often the console may redraw for updates: `--refresh SECONDS` or `--slow-link`. Keys are
// never held back (the App throttles model updates only).

/** `--slow-link`: one frame every 2 s still shows a resync moving, for a fraction of the bytes. */
export const SLOW_LINK_REFRESH_MS = 2000;
export const MIN_REFRESH_S = 0.5;

/** Minimum milliseconds between update frames (undefined: the App's default, ~10 fps), or what is wrong. */
export function refreshOption(v: string | undefined, slowLink: boolean): { ms?: number } | { error: string } {
  if (v !== undefined && slowLink) return { error: '--refresh and --slow-link both set the refresh: give one' };
  if (slowLink) return { ms: SLOW_LINK_REFRESH_MS };
  if (v === undefined) return {};
  const s = Number(v);
  if (v.trim() === '' || !Number.isFinite(s) || s < MIN_REFRESH_S) return { error: `--refresh takes seconds >= ${MIN_REFRESH_S} (got ${v}); leave it out for the default` };
  return { ms: Math.round(s * 1000) };
}
