import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { afterOutcome, initialRetry, type LinkOutcome, type RetryAction, type RetryState } from '../../../agent/engine/peer-retry.js';

const bounds = { initialMs: 100, maxMs: 800 };
const mid = 0.5; // no jitter
const failed = (over: Partial<Extract<LinkOutcome, { kind: 'attempt-failed' }>>): LinkOutcome => ({
  kind: 'attempt-failed',
  reason: 'auth-failed',
  dialed: true,
  remote: '10.77.0.12',
  error: 'authentication failed',
  connected: false,
  ...over,
});

describe('peer-retry: what each outcome does', () => {
  const s0: RetryState = { backoffMs: 200, problem: undefined };
  const rows: Array<{ name: string; s?: RetryState; o: LinkOutcome; action: RetryAction; backoff: number; problem: string | undefined }> = [
    { name: 'our dial fails authentication: redial after backoff, the problem names the address', o: failed({}), action: { kind: 'redial', delayMs: 200 }, backoff: 400, problem: 'authentication failed from 10.77.0.12' },
    { name: 'a connection to us fails authentication: keep listening, same problem', o: failed({ dialed: false }), action: { kind: 'keep-listening' }, backoff: 200, problem: 'authentication failed from 10.77.0.12' },
    { name: 'a forged AuthResult or replay ends like any failed attempt', o: failed({ dialed: false, error: 'authentication failed' }), action: { kind: 'keep-listening' }, backoff: 200, problem: 'authentication failed from 10.77.0.12' },
    { name: 'a protocol error is the problem in its own words', o: failed({ reason: 'protocol-error', error: 'peer is for resource "r9", not "r0"' }), action: { kind: 'redial', delayMs: 200 }, backoff: 400, problem: 'peer is for resource "r9", not "r0"' },
    { name: 'peer away (dial refused): redial, no problem invented', o: failed({ reason: 'network-failure', error: 'ECONNREFUSED' }), action: { kind: 'redial', delayMs: 200 }, backoff: 400, problem: undefined },
    { name: 'a handshake timeout on our dial: redial', o: failed({ reason: 'timeout', error: 'handshake timed out' }), action: { kind: 'redial', delayMs: 200 }, backoff: 400, problem: undefined },
    { name: 'the earlier problem stays until a connection is kept', s: { backoffMs: 200, problem: 'authentication failed from 10.77.0.12' }, o: failed({ reason: 'network-failure' }), action: { kind: 'redial', delayMs: 200 }, backoff: 400, problem: 'authentication failed from 10.77.0.12' },
    { name: 'while connected, a stranger failing is no problem of the link', o: failed({ dialed: false, connected: true }), action: { kind: 'keep-listening' }, backoff: 200, problem: undefined },
    { name: 'backoff stops doubling at its bound', s: { backoffMs: 800, problem: undefined }, o: failed({}), action: { kind: 'redial', delayMs: 800 }, backoff: 800, problem: 'authentication failed from 10.77.0.12' },
    { name: 'a kept connection resets backoff and clears the problem', s: { backoffMs: 800, problem: 'x' }, o: { kind: 'kept' }, action: { kind: 'keep-listening' }, backoff: 100, problem: undefined },
    { name: 'losing the kept connection redials at the first backoff', s: { backoffMs: 800, problem: undefined }, o: { kind: 'lost' }, action: { kind: 'redial', delayMs: 100 }, backoff: 200, problem: undefined },
    { name: 'only the operator stops the trying', s: { backoffMs: 800, problem: 'x' }, o: { kind: 'operator-stop' }, action: { kind: 'stop' }, backoff: 100, problem: undefined },
  ];
  for (const r of rows) {
    test(r.name, () => {
      const step = afterOutcome(r.s ?? s0, r.o, bounds, mid);
      assert.deepEqual(step.action, r.action);
      assert.equal(step.state.backoffMs, r.backoff);
      assert.equal(step.state.problem, r.problem);
    });
  }

  test('no sequence of failed attempts ever stops the link; jitter stays within ±20% of the bound', () => {
    let s = initialRetry(bounds);
    const reasons = ['auth-failed', 'protocol-error', 'timeout', 'network-failure', 'broken-pipe', 'closed-by-peer'] as const;
    for (let i = 0; i < 200; i++) {
      const step = afterOutcome(s, failed({ reason: reasons[i % reasons.length]!, dialed: i % 3 !== 0 }), bounds, (i * 0.37) % 1);
      assert.notEqual(step.action.kind, 'stop');
      if (step.action.kind === 'redial') assert.ok(step.action.delayMs >= 80 && step.action.delayMs <= 960, String(step.action.delayMs));
      s = step.state;
    }
    assert.equal(s.backoffMs, bounds.maxMs);
  });

  test('bounds are checked', () => {
    assert.throws(() => initialRetry({ initialMs: 0, maxMs: 10 }), /backoff/);
    assert.throws(() => initialRetry({ initialMs: 100, maxMs: 10 }), /backoff/);
  });
});
