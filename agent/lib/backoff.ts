// Exponential backoff with jitter, pure: the delay before the next attempt and the base of the
// one after it. The peer link and the kernel's events2 stream retry with it. Each delay is
// jittered ±20% so that two nodes retrying the same thing do not stay in step.

export interface BackoffBounds {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffBounds = { initialMs: 100, maxMs: 5000 };
export const BACKOFF_JITTER = 0.2;

/** `random` in [0, 1) picks the jitter; pass Math.random() (tests pass fixed values). */
export function backoffStep(baseMs: number, bounds: BackoffBounds, random: number): { delayMs: number; nextMs: number } {
  return { delayMs: Math.round(baseMs * (1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * random)), nextMs: Math.min(bounds.maxMs, baseMs * 2) };
}

export function checkBounds(bounds: BackoffBounds): void {
  if (!(bounds.initialMs > 0) || !(bounds.maxMs >= bounds.initialMs)) throw new RangeError(`backoff needs 0 < initialMs <= maxMs, got ${bounds.initialMs} and ${bounds.maxMs}`);
}
