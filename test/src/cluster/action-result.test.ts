import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resultText } from '../../../src/cluster/action-result.js';

test('resultText: adjust, resize, verify and discard-my-data say what happened; the rest done', () => {
  const cases: Array<[Parameters<typeof resultText>[0], unknown, string]> = [
    ['adjust', { ok: true, state: 'down', reason: 'no metadata on /d: create-md r0 first (on each host)' }, 'r0 stays down: no metadata on /d: create-md r0 first (on each host)'],
    ['adjust', { ok: true, state: 'up', broughtUp: true }, 'r0 brought up'],
    ['adjust', { ok: true, state: 'up', pending: true }, 'r0 is up with its old settings: the changed file takes effect at the next down/up'],
    ['adjust', { ok: true, state: 'up' }, 'done'],
    ['resize', { ok: true, volumes: [{ volume: 0, fromKiB: 16384, toKiB: 32768 }] }, 'r0/0 16.0 MiB → 32.0 MiB'],
    ['verify', { ok: true }, 'verify started: the KiB out of sync show under the resource when it ends'],
    ['discard-my-data', { ok: true, message: "kept a copy of ha-b's 12 KiB of diverging blocks (3 ranges) in /var/lib/drbd-tui/split-brain/r0/x-vol0.blocks" }, "kept a copy of ha-b's 12 KiB of diverging blocks (3 ranges) in /var/lib/drbd-tui/split-brain/r0/x-vol0.blocks"],
    ['discard-my-data', { ok: true }, 'done'],
    ['promote', undefined, 'done'],
  ];
  for (const [action, result, want] of cases) assert.equal(resultText(action, 'r0', result), want, action);
});
