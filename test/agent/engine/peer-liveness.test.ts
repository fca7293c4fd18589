import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { initialLiveness, livenessCheck, pingWritten, type LivenessState } from '../../../agent/engine/peer-liveness.js';

const cfg = { intervalMs: 1000, timeoutMs: 500 };

/**
 * Simulated time: calls livenessCheck at each nextCheckAt, like the link's timer, with
 * lastRx/delivered given as functions of time. Returns when the peer was declared dead (or
 * Infinity) and when pings went out.
 */
function run(until: number, lastRxAt: (t: number) => number, deliveredAt: (t: number) => number): { deadAt: number; pings: number[] } {
  let s: LivenessState = initialLiveness(0);
  let t = 0;
  const pings: number[] = [];
  while (t <= until) {
    const step = livenessCheck(s, { now: t, lastRx: lastRxAt(t), delivered: deliveredAt(t) }, cfg);
    s = step.state;
    if (step.action === 'dead') return { deadAt: t, pings };
    if (step.action === 'ping') {
      pings.push(t);
      s = pingWritten(s, deliveredAt(t) + 16);
    }
    t = Math.max(t + 5, step.nextCheckAt);
  }
  return { deadAt: Infinity, pings };
}

describe('peer liveness', () => {
  test('an idle link pings after the interval and a silent peer is dead one timeout later', () => {
    const r = run(10_000, () => 0, () => 0);
    assert.deepEqual(r.pings, [1000]);
    assert.equal(r.deadAt, 1500);
  });

  test('a peer that answers every ping stays alive; pings go out an interval after the answer', () => {
    // The answer arrives 10 ms after each ping.
    let s: LivenessState = initialLiveness(0);
    let lastRx = 0;
    let t = 0;
    const pings: number[] = [];
    while (t < 5000) {
      const step = livenessCheck(s, { now: t, lastRx, delivered: 0 }, cfg);
      s = step.state;
      assert.notEqual(step.action, 'dead', `dead at ${t}`);
      let next = step.nextCheckAt;
      if (step.action === 'ping') {
        pings.push(t);
        lastRx = t + 10;
        next = lastRx; // the link re-checks when the PingAck arrives
      }
      t = next;
    }
    assert.deepEqual(pings, [1000, 2010, 3020, 4030]);
  });

  test('traffic from the peer means no pings at all', () => {
    const r = run(5000, (t) => t, () => 0);
    assert.deepEqual(r.pings, []);
    assert.equal(r.deadAt, Infinity);
  });

  test('a ping stuck behind a draining backlog does not kill a busy peer', () => {
    // The peer answers nothing but keeps reading our data until t = 4000, then freezes.
    const delivered = (t: number): number => Math.min(t, 4000) * 1000;
    const r = run(10_000, () => 0, delivered);
    assert.deepEqual(r.pings, [1000]);
    assert.ok(r.deadAt >= 4500 && r.deadAt <= 4500 + cfg.timeoutMs / 4, `dead at ${r.deadAt}`);
  });

  test('the ping’s own bytes are not progress', () => {
    // Only the ping itself was ever delivered: dead exactly one timeout after it.
    const r = run(10_000, () => 0, (t) => (t >= 1000 ? 16 : 0));
    assert.equal(r.deadAt, 1500);
  });
});
