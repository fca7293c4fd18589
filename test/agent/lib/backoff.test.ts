import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffStep, checkBounds, DEFAULT_BACKOFF } from '../../../agent/lib/backoff.js';

test('backoffStep: the delay is the base jittered ±20%, the next base doubles up to maxMs', () => {
  const cases: Array<[number, number, { delayMs: number; nextMs: number }]> = [
    // base, random, step
    [100, 0.5, { delayMs: 100, nextMs: 200 }],
    [100, 0, { delayMs: 80, nextMs: 200 }],
    [100, 0.999999, { delayMs: 120, nextMs: 200 }],
    [3000, 0.5, { delayMs: 3000, nextMs: 5000 }],
    [5000, 0.5, { delayMs: 5000, nextMs: 5000 }],
  ];
  for (const [base, random, want] of cases) assert.deepEqual(backoffStep(base, DEFAULT_BACKOFF, random), want, `${base} @ ${random}`);
});

test('checkBounds: 0 < initialMs <= maxMs', () => {
  checkBounds(DEFAULT_BACKOFF);
  for (const b of [{ initialMs: 0, maxMs: 10 }, { initialMs: 20, maxMs: 10 }, { initialMs: Number.NaN, maxMs: 10 }]) assert.throws(() => checkBounds(b), RangeError, JSON.stringify(b));
});
