// What the peer link does when a connection attempt ends, as a pure function; peer-link.ts
// owns the sockets and the timers. DRBD's rule ("Authentication of peer failed, trying
// again."): only the operator stops trying. An authentication failure, a protocol error or a
// handshake timeout ends that one connection and becomes the link's problem; the link keeps
// listening and redials after a backoff. Nothing that arrives before authentication proves
// who sent it, so a forged AuthResult, a replayed transcript or a peer whose secret is still
// being fixed costs one attempt, never the link.
//
// Backoff (agent/lib/backoff.ts): the first redial after `initialMs` (100 ms), doubling with each
// attempt that ends without a kept connection, up to `maxMs` (5 s), jittered so the two nodes,
// which both dial, do not stay in step. A kept (authenticated) connection resets it.

import { backoffStep, checkBounds, type BackoffBounds } from '../lib/backoff.js';

/** How an unauthenticated connection ended (the link's DisconnectReason minus 'local'). */
export type AttemptFailure = 'auth-failed' | 'protocol-error' | 'timeout' | 'network-failure' | 'broken-pipe' | 'closed-by-peer';

export type LinkOutcome =
  /** An authenticated connection became the link. */
  | { kind: 'kept' }
  /** A connection ended before it became the link. */
  | {
      kind: 'attempt-failed';
      reason: AttemptFailure;
      /** We dialed it (else the peer's address connected to us). */
      dialed: boolean;
      /** The other end's IP: without the port, so that repeated failures from one host read the same. */
      remote: string;
      error: string;
      /** Another connection is the link meanwhile. */
      connected: boolean;
    }
  /** The kept connection ended. */
  | { kind: 'lost' }
  /** The operator's disconnect (or down): the only way to StandAlone. */
  | { kind: 'operator-stop' };

export interface RetryState {
  /** The next redial's delay before jitter. */
  backoffMs: number;
  /** What status shows while Connecting ("authentication failed from 10.77.0.12"). */
  problem: string | undefined;
}

export type RetryAction =
  /** Dial the peer again after delayMs. */
  | { kind: 'redial'; delayMs: number }
  /** Our own dial is not affected (a connection the peer made to us ended): go on listening. */
  | { kind: 'keep-listening' }
  | { kind: 'stop' };

export interface RetryStep {
  state: RetryState;
  action: RetryAction;
}

export function initialRetry(bounds: BackoffBounds): RetryState {
  checkBounds(bounds);
  return { backoffMs: bounds.initialMs, problem: undefined };
}

/** The problem an attempt leaves behind: failures that mean "not our peer, or not its secret". */
function attemptProblem(o: Extract<LinkOutcome, { kind: 'attempt-failed' }>): string | undefined {
  if (o.reason === 'auth-failed') return `authentication failed from ${o.remote}`;
  if (o.reason === 'protocol-error') return o.error;
  return undefined;
}

/** `random` in [0, 1) picks the jitter (backoffStep). */
export function afterOutcome(s: RetryState, o: LinkOutcome, bounds: BackoffBounds, random: number): RetryStep {
  const redial = (backoffMs: number, problem: string | undefined): RetryStep => {
    const { delayMs, nextMs } = backoffStep(backoffMs, bounds, random);
    return { state: { backoffMs: nextMs, problem }, action: { kind: 'redial', delayMs } };
  };
  switch (o.kind) {
    case 'kept':
      return { state: { backoffMs: bounds.initialMs, problem: undefined }, action: { kind: 'keep-listening' } };
    case 'operator-stop':
      return { state: { backoffMs: bounds.initialMs, problem: undefined }, action: { kind: 'stop' } };
    case 'lost':
      // The engine says why the kept connection ended (ping timeout, …); nothing failed to authenticate.
      return redial(bounds.initialMs, undefined);
    case 'attempt-failed': {
      // While a kept connection runs, a failed stranger is logged, not the link's problem.
      const problem = o.connected ? s.problem : (attemptProblem(o) ?? s.problem);
      if (!o.dialed || o.connected) return { state: { ...s, problem }, action: { kind: 'keep-listening' } };
      return redial(s.backoffMs, problem);
    }
  }
}
