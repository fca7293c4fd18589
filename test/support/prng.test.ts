import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createPrng } from './prng.js';

describe('createPrng', () => {
  test('same seed, same sequence; different seeds differ', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const c = createPrng(43);
    const sa = Array.from({ length: 50 }, () => a.next());
    const sb = Array.from({ length: 50 }, () => b.next());
    const sc = Array.from({ length: 50 }, () => c.next());
    assert.deepEqual(sa, sb);
    assert.notDeepEqual(sa, sc);
    assert.ok(sa.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
  });

  test('bigint seeds select distinct streams', () => {
    assert.notEqual(createPrng(1n << 40n).next(), createPrng(0n).next());
    assert.equal(createPrng(7n).next(), createPrng(7n).next());
  });

  test('float in [0,1) and int(n) in [0,n), roughly uniform', () => {
    const r = createPrng(1);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const f = r.float();
      assert.ok(f >= 0 && f < 1);
      const k = r.int(10);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (const c of counts) assert.ok(c > 9_000 && c < 11_000, `bucket count ${c}`);
    assert.equal(r.int(1), 0);
    const big = r.int(2 ** 40);
    assert.ok(Number.isInteger(big) && big >= 0 && big < 2 ** 40);
    assert.throws(() => r.int(0), RangeError);
  });
});
