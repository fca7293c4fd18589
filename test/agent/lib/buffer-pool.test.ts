import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../../agent/lib/buffer-pool.js';

describe('BufferPool', () => {
  test('a released buffer is handed out again; one in use never is', () => {
    const pool = new BufferPool();
    const a = pool.take(4116);
    const b = pool.take(4116);
    assert.notEqual(a.buffer, b.buffer);
    assert.equal(a.length, 4116);
    pool.release(a.subarray(20));
    const c = pool.take(4000);
    assert.equal(c.buffer, a.buffer);
    const d = pool.take(4116);
    assert.ok(d.buffer !== b.buffer && d.buffer !== c.buffer);
    assert.deepEqual(pool.stats, { reused: 1, allocated: 3, doubleReleases: 0 });
  });

  test('sizes go to the smallest class that holds them, with room for a message header', () => {
    const pool = new BufferPool();
    const small = pool.take(1);
    pool.release(small);
    assert.equal(pool.take(4096 + 64).buffer, small.buffer);
    const big = pool.take((1 << 20) + 20);
    pool.release(big);
    assert.equal(pool.take((1 << 19) + 65).buffer, big.buffer);
  });

  test('memory it did not hand out, double releases and requests over maxTake are ignored', () => {
    const pool = new BufferPool(1 << 20, 8192);
    pool.release(Buffer.alloc(4096));
    pool.release(Buffer.allocUnsafe(16));
    const a = pool.take(100);
    pool.release(a);
    pool.release(a);
    assert.equal(pool.stats.doubleReleases, 1);
    assert.equal(pool.pooledBytes, 4096 + 64);
    const huge = pool.take(9000);
    pool.release(huge);
    assert.equal(pool.pooledBytes, 4096 + 64);
    // The one free buffer is handed out once, not twice.
    assert.equal(pool.take(100).buffer, a.buffer);
    assert.notEqual(pool.take(100).buffer, a.buffer);
  });

  test('free lists stay under maxBytes', () => {
    const pool = new BufferPool(3 * (4096 + 64));
    const taken = Array.from({ length: 10 }, () => pool.take(4096));
    for (const b of taken) pool.release(b);
    assert.equal(pool.pooledBytes, 3 * (4096 + 64));
    const again = Array.from({ length: 10 }, () => pool.take(4096));
    assert.equal(new Set(again.map((b) => b.buffer)).size, 10);
    assert.equal(pool.stats.reused, 3);
  });
});
