// When to ping the peer and when to declare it dead (DRBD ping-int / ping-timeout), as a
// pure function of time and counters; peer-link.ts owns the timer and the socket.
//
// Any received byte proves the peer alive. After `interval` of receive silence we send a
// Ping; the peer is dead if nothing arrives within `timeout` after it. One TCP connection
// carries both data and pings (DRBD uses a second socket), so a Ping may wait behind
// megabytes of queued data: while that backlog keeps draining into the network the peer is
// reading (a frozen peer's TCP window closes within milliseconds and nothing moves), so the
// timeout runs from the last such progress rather than from the Ping.

export interface LivenessConfig {
  intervalMs: number;
  timeoutMs: number;
}

export interface LivenessState {
  pingOutstanding: boolean;
  pingSentAt: number;
  /** Last time our outgoing backlog was seen moving while a Ping was outstanding. */
  progressAt: number;
  /** Bytes handed to the kernel at the last check. */
  delivered: number;
}

export type LivenessAction = 'none' | 'ping' | 'dead';

export interface LivenessStep {
  state: LivenessState;
  action: LivenessAction;
  /** When to call livenessCheck next (same clock as `now`). */
  nextCheckAt: number;
}

export interface LivenessInput {
  now: number;
  /** When the last byte arrived from the peer. */
  lastRx: number;
  /** Bytes our side has handed to the kernel so far. */
  delivered: number;
}

export function initialLiveness(delivered: number): LivenessState {
  return { pingOutstanding: false, pingSentAt: 0, progressAt: 0, delivered };
}

export function livenessCheck(s: LivenessState, input: LivenessInput, cfg: LivenessConfig): LivenessStep {
  const { now, lastRx, delivered } = input;
  let st = s;
  if (st.pingOutstanding && lastRx > st.pingSentAt) st = { ...st, pingOutstanding: false };
  if (st.pingOutstanding) {
    if (delivered > st.delivered) st = { ...st, delivered, progressAt: now };
    if (now - st.progressAt >= cfg.timeoutMs) return { state: st, action: 'dead', nextCheckAt: Infinity };
    // Look again every quarter timeout, so that progress stopping is noticed promptly.
    return { state: st, action: 'none', nextCheckAt: Math.min(st.progressAt + cfg.timeoutMs, now + cfg.timeoutMs / 4) };
  }
  if (now - lastRx >= cfg.intervalMs) {
    st = { ...st, pingOutstanding: true, pingSentAt: now, progressAt: now, delivered };
    return { state: st, action: 'ping', nextCheckAt: now + cfg.timeoutMs / 4 };
  }
  return { state: st, action: 'none', nextCheckAt: lastRx + cfg.intervalMs };
}

/** After the Ping was written: its own bytes are not evidence that the peer reads. */
export function pingWritten(s: LivenessState, delivered: number): LivenessState {
  return { ...s, delivered: Math.max(s.delivered, delivered) };
}
