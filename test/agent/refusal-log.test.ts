// The rate limit on refusal log lines, as a table over time, then the bounded per-address log.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { REFUSAL_LOG_ADDRESSES, RefusalLog, refusalLogDecision, type RefusalWindow } from '../../agent/refusal-log.js';

const MIN = 60_000;

describe('refusalLogDecision', () => {
  const ROWS: Array<[what: string, prev: RefusalWindow | undefined, now: number, log: string, next: RefusalWindow]> = [
    ['the first refusal is logged in full', undefined, 5, 'refusal', { since: 5, suppressed: 0 }],
    ['another inside the interval is counted', { since: 5, suppressed: 0 }, 5 + MIN - 1, 'none', { since: 5, suppressed: 1 }],
    ['one after the interval with none left out is logged in full', { since: 5, suppressed: 0 }, 5 + MIN, 'refusal', { since: 5 + MIN, suppressed: 0 }],
    ['one after the interval with some left out is the summary line', { since: 5, suppressed: 41 }, 5 + MIN, 'summary', { since: 5 + MIN, suppressed: 0 }],
  ];
  for (const [what, prev, now, log, next] of ROWS) {
    test(what, () => {
      const d = refusalLogDecision(prev, now);
      assert.equal(d.log, log);
      assert.deepEqual(d.window, next);
      if (d.log === 'summary') assert.equal(d.count, 42);
    });
  }
  test('an interval that is not positive is a programming error', () => {
    assert.throws(() => refusalLogDecision(undefined, 0, 0), /must be positive/);
  });
});

describe('RefusalLog', () => {
  test('20 000 refusals from one address in 2 minutes are 3 lines', () => {
    const lines: string[] = [];
    let t = 0;
    const rl = new RefusalLog((l) => lines.push(l), () => t);
    for (let i = 0; i < 20_000; i++, t += 6) rl.refused('192.0.2.7', 'refused logins', `login from 192.0.2.7 refused: #${i}`);
    assert.deepEqual(lines, ['login from 192.0.2.7 refused: #0', '10000 more refused logins from 192.0.2.7 in the last 60 s']);
    t += MIN;
    rl.refused('192.0.2.7', 'refused logins', 'x');
    assert.equal(lines.at(-1), '10000 more refused logins from 192.0.2.7 in the last 60 s');
  });

  test('the addresses remembered are bounded', () => {
    const lines: string[] = [];
    const rl = new RefusalLog((l) => lines.push(l), () => 0);
    for (let i = 0; i < REFUSAL_LOG_ADDRESSES * 3; i++) rl.refused(`10.0.${i >> 8}.${i & 255}`, 'refused logins', `line ${i}`);
    assert.equal(lines.length, REFUSAL_LOG_ADDRESSES * 3, 'each new address logs once');
    assert.ok((rl as unknown as { windows: Map<string, unknown> }).windows.size <= REFUSAL_LOG_ADDRESSES);
  });
});
