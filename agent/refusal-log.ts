// Repeated refusals from one address (refused iSCSI logins, CHAP failures) logged without
// flooding the log: the first in full, then at most one line per interval with the count of
// those left out. Pure: the caller keeps the windows and the clock.

/** How long refusals from one address are counted instead of logged. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;
/** Addresses remembered at once; the oldest window is forgotten past it (an attacker with many addresses gets at most this many lines per interval). */
export const REFUSAL_LOG_ADDRESSES = 1024;

export interface RefusalWindow {
  /** When the line that opened this window was logged. */
  since: number;
  /** Refusals since then that were not logged. */
  suppressed: number;
}

export type RefusalLogDecision =
  | { log: 'refusal'; window: RefusalWindow }
  | { log: 'none'; window: RefusalWindow }
  /** A summary line for `count` refusals (this one included) in the window that ended. */
  | { log: 'summary'; count: number; window: RefusalWindow };

export function refusalLogDecision(prev: RefusalWindow | undefined, now: number, interval = REFUSAL_LOG_INTERVAL_MS): RefusalLogDecision {
  if (!(interval > 0)) throw new RangeError(`refusal log interval must be positive, got ${interval}`);
  if (prev === undefined) return { log: 'refusal', window: { since: now, suppressed: 0 } };
  if (now - prev.since < interval) return { log: 'none', window: { since: prev.since, suppressed: prev.suppressed + 1 } };
  if (prev.suppressed === 0) return { log: 'refusal', window: { since: now, suppressed: 0 } };
  return { log: 'summary', count: prev.suppressed + 1, window: { since: now, suppressed: 0 } };
}

/** The windows of many addresses, bounded; `log` receives the lines to write. */
export class RefusalLog {
  private readonly windows = new Map<string, RefusalWindow>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly now: () => number = Date.now,
    private readonly interval = REFUSAL_LOG_INTERVAL_MS,
  ) {}

  /** `what` names the kind ("refused logins"), `line` is the full line for a logged refusal. */
  refused(address: string, what: string, line: string): void {
    const d = refusalLogDecision(this.windows.get(address), this.now(), this.interval);
    this.windows.delete(address);
    if (this.windows.size >= REFUSAL_LOG_ADDRESSES) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, d.window);
    if (d.log === 'refusal') this.log(line);
    else if (d.log === 'summary') this.log(`${d.count} more ${what} from ${address} in the last ${Math.round(this.interval / 1000)} s`);
  }
}
