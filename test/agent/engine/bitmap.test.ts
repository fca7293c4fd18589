import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Bitmap, blockSpan, readBitmap } from '../../../agent/engine/bitmap.js';
import { computeLayout } from '../../../agent/engine/md-layout.js';
import type { OutOfSyncMap } from '../../../agent/engine/machine-types.js';
import { createPrng, type Prng } from '../../support/prng.js';
import { counting, withDisk } from './temp-disk.js';

const MiB = 1 << 20;

/** The obvious implementation, one byte per block, to check the word-level one against. */
class NaiveBitmap {
  readonly bits: Uint8Array;
  constructor(readonly blocks: number) {
    this.bits = new Uint8Array(blocks);
  }
  set(first: number, count: number): number {
    let n = 0;
    for (let b = first; b < first + count; b++) {
      if (!this.bits[b]) {
        this.bits[b] = 1;
        n++;
      }
    }
    return n;
  }
  clear(first: number, count: number): number {
    let n = 0;
    for (let b = first; b < first + count; b++) {
      if (this.bits[b]) {
        this.bits[b] = 0;
        n++;
      }
    }
    return n;
  }
  count(first: number, count: number): number {
    let n = 0;
    for (let b = first; b < first + count; b++) n += this.bits[b] as number;
    return n;
  }
  nextSet(from: number): number {
    for (let b = from; b < this.blocks; b++) if (this.bits[b]) return b;
    return -1;
  }
  weight(): number {
    return this.count(0, this.blocks);
  }
}

function randomSpan(r: Prng, blocks: number): { first: number; count: number } {
  const first = r.int(blocks);
  const maxLen = r.int(4) === 0 ? blocks - first : Math.min(blocks - first, 100);
  return { first, count: r.int(maxLen + 1) };
}

describe('blockSpan', () => {
  test('outward covers every touched block; inward only fully covered ones', () => {
    assert.deepEqual(blockSpan(0, 4096, 'outward'), { first: 0, count: 1 });
    assert.deepEqual(blockSpan(512, 512, 'outward'), { first: 0, count: 1 });
    assert.deepEqual(blockSpan(4095, 2, 'outward'), { first: 0, count: 2 });
    assert.deepEqual(blockSpan(4096, 0, 'outward'), { first: 1, count: 0 });
    assert.deepEqual(blockSpan(512, 512, 'inward'), { first: 1, count: 0 });
    assert.deepEqual(blockSpan(512, 8192, 'inward'), { first: 1, count: 1 });
    assert.deepEqual(blockSpan(4096, 8192, 'inward'), { first: 1, count: 2 });
  });
});

describe('Bitmap', () => {
  test('satisfies the machine\'s OutOfSyncMap interface', () => {
    const m: OutOfSyncMap = new Bitmap(100);
    m.setRange(0, 4096 * 3);
    assert.equal(m.weight, 3);
  });

  test('byte ranges: set rounds outward, clear rounds inward', () => {
    const bm = new Bitmap(64);
    assert.equal(bm.setRange(4096 + 100, 4096), 2); // blocks 1 and 2
    assert.ok(bm.test(1) && bm.test(2) && !bm.test(0) && !bm.test(3));
    assert.equal(bm.clearRange(4096 + 100, 8192), 1); // only block 2 is fully covered
    assert.ok(bm.test(1) && !bm.test(2));
    assert.ok(bm.testRange(4096 + 4000, 10));
    assert.ok(!bm.testRange(8192, 4096));
    assert.equal(bm.weight, 1);
    assert.throws(() => bm.setRange(63 * 4096, 4097), RangeError);
  });

  test('random operations agree with a naive reference (weight, test, nextSet, nextRun)', () => {
    for (const blocks of [1, 31, 32, 33, 1000, 70_001, 3 * 32768]) {
      const r = createPrng(blocks);
      const bm = new Bitmap(blocks);
      const ref = new NaiveBitmap(blocks);
      for (let i = 0; i < 600; i++) {
        const { first, count } = randomSpan(r, blocks);
        switch (r.int(6)) {
          case 0:
          case 1:
            assert.equal(bm.setBlocks(first, count), ref.set(first, count));
            break;
          case 2:
            assert.equal(bm.clearBlocks(first, count), ref.clear(first, count));
            break;
          case 3:
            assert.equal(bm.countBlocks(first, count), ref.count(first, count));
            break;
          case 4: {
            const from = r.int(blocks);
            assert.equal(bm.nextSet(from), ref.nextSet(from));
            let clear = from;
            while (clear < blocks && ref.bits[clear]) clear++;
            assert.equal(bm.nextClear(from), clear);
            const max = 1 + r.int(50);
            const run = bm.nextRun(from, max);
            const s = ref.nextSet(from);
            if (s < 0) assert.equal(run, null);
            else {
              assert.ok(run);
              assert.equal(run.first, s);
              for (let b = run.first; b < run.first + run.count; b++) assert.equal(ref.bits[b], 1);
              const after = run.first + run.count;
              assert.ok(run.count <= max);
              assert.ok(run.count === max || after === blocks || ref.bits[after] === 0, 'run stopped early');
            }
            break;
          }
          case 5: {
            const other = new Bitmap(blocks);
            const { first: f2, count: c2 } = randomSpan(r, blocks);
            other.setBlocks(f2, c2);
            const expected = ref.set(f2, c2);
            assert.equal(r.int(2) ? bm.or(other) : bm.orBytes(other.toBytes()), expected);
            break;
          }
        }
        assert.equal(bm.weight, ref.weight());
      }
      const b = r.int(blocks);
      assert.equal(bm.test(b), ref.bits[b] === 1);
      // Serialization round trip.
      const back = Bitmap.fromBytes(bm.toBytes(), blocks);
      assert.equal(back.weight, bm.weight);
      assert.deepEqual(back.toBytes(), bm.toBytes());
    }
  });

  test('nextRun respects maxBlocks and stops at a clear block', () => {
    const bm = new Bitmap(200);
    bm.setBlocks(10, 100);
    assert.deepEqual(bm.nextRun(0, 32), { first: 10, count: 32 });
    assert.deepEqual(bm.nextRun(42, 1000), { first: 42, count: 68 });
    assert.equal(bm.nextRun(110, 10), null);
    assert.equal(bm.nextClear(10), 110);
    bm.setAll();
    assert.equal(bm.weight, 200);
    assert.equal(bm.nextClear(0), 200);
    bm.clearAll();
    assert.equal(bm.weight, 0);
  });

  test('scans skip empty and full pages correctly (and fast on a 1 TiB volume)', () => {
    const P = 32768;
    const bm = new Bitmap(5 * P + 17);
    bm.setBlocks(4 * P + 5, 1);
    assert.equal(bm.nextSet(0), 4 * P + 5);
    assert.equal(bm.nextSet(4 * P + 6), -1);
    bm.setBlocks(0, 3 * P);
    assert.equal(bm.nextClear(0), 3 * P);
    bm.setBlocks(3 * P, 2 * P + 17);
    assert.equal(bm.nextClear(0), 5 * P + 17);
    bm.clearBlocks(5 * P + 16, 1);
    assert.equal(bm.nextClear(P + 3), 5 * P + 16);
    bm.clearBlocks(0, 5 * P);
    assert.equal(bm.nextSet(1), 5 * P);
    const back = Bitmap.fromBytes(bm.toBytes(), bm.blocks);
    assert.equal(back.nextSet(0), 5 * P);
    assert.equal(back.weight, 16);

    const huge = new Bitmap(2 ** 28);
    huge.setBlocks(2 ** 28 - 1, 1);
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) assert.equal(huge.nextSet(0), 2 ** 28 - 1);
    const ms = performance.now() - t0;
    assert.ok(ms < 200, `10 scans of an empty 1 TiB bitmap took ${ms.toFixed(0)} ms`);
  });

  test('on-disk form: bit i is byte i/8, bit i%8; padding bits from outside are ignored', () => {
    const bm = new Bitmap(20);
    bm.setBlocks(0, 1);
    bm.setBlocks(9, 1);
    const bytes = bm.toBytes();
    assert.equal(bytes.length, 4096);
    assert.equal(bytes[0], 0b1);
    assert.equal(bytes[1], 0b10);
    const foreign = Buffer.alloc(4096, 0xff);
    const fb = Bitmap.fromBytes(foreign, 20);
    assert.equal(fb.weight, 20);
    const other = new Bitmap(20);
    assert.equal(other.orBytes(foreign), 20);
    assert.equal(other.weight, 20);
    assert.equal(other.nextSet(20), -1);
  });

  test('setting bits on every write is cheap (1 GiB volume, 1M random 4 KiB writes)', () => {
    const blocks = 262_144;
    const bm = new Bitmap(blocks);
    const r = createPrng(5);
    const offsets = Array.from({ length: 1_000_000 }, () => r.int(blocks) * 4096);
    const t0 = performance.now();
    for (const off of offsets) bm.setRange(off, 4096);
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `1M setRange took ${ms.toFixed(0)} ms`);
    assert.ok(bm.weight > 0 && bm.weight <= blocks);
  });
});

describe('Bitmap persistence', () => {
  test('flushDirty writes only the dirty pages, then nothing; readBitmap sees them', async () => {
    await withDisk(600 * MiB, async (raw) => {
      const layout = computeLayout(raw.size);
      const disk = counting(raw);
      const bm = new Bitmap(layout.blocks);
      assert.ok(layout.bitmapBytes >= 5 * 4096);
      bm.setBlocks(5, 1); // page 0
      bm.setBlocks(3 * 32768 + 7, 3); // page 3
      bm.setBlocks(3 * 32768 + 100, 1); // page 3 again
      bm.setBlocks(5, 1); // already set: no new dirt
      assert.deepEqual(bm.dirtyPages(), [0, 3]);
      assert.equal(await bm.flushDirty(disk, layout), 2);
      assert.deepEqual(
        disk.writes.map((w) => w.pos),
        [layout.bitmapOffset, layout.bitmapOffset + 3 * 4096],
      );
      assert.ok(disk.writes.every((w) => w.len === 4096));
      // Each page durable by itself (O_DSYNC); the data's fdatasync is the caller's (rule 2c).
      assert.ok(disk.writes.every((w) => w.durable));
      assert.equal(disk.syncs, 0);
      assert.equal(await bm.flushDirty(disk, layout), 0);
      assert.equal(disk.writes.length, 2);

      const back = await readBitmap(disk, layout);
      assert.equal(back.weight, 5);
      assert.ok(back.test(3 * 32768 + 9));

      // flushBlocks: only the pages holding the given blocks.
      bm.setBlocks(1 * 32768, 1);
      bm.setBlocks(4 * 32768, 1);
      assert.equal(await bm.flushBlocks(disk, layout, 4 * 32768 - 10, 20), 1);
      assert.deepEqual(bm.dirtyPages(), [1]);
      assert.equal(disk.writes.at(-1)?.pos, layout.bitmapOffset + 4 * 4096);

      // flushAll writes everything in one go.
      await bm.flushAll(disk, layout);
      assert.equal(bm.dirtyPageCount, 0);
      assert.equal(disk.writes.at(-1)?.len, layout.bitmapBytes);
      assert.deepEqual((await readBitmap(disk, layout)).toBytes(), bm.toBytes());
    });
  });

  test('a failed flush leaves the pages dirty', async () => {
    await withDisk(8 * MiB, async (raw) => {
      const layout = computeLayout(raw.size);
      const bm = new Bitmap(layout.blocks);
      bm.setBlocks(1, 1);
      const failing = { ...raw, write: () => Promise.reject(new Error('EIO')) };
      await assert.rejects(bm.flushDirty(failing, layout), /EIO/);
      assert.deepEqual(bm.dirtyPages(), [0]);
      assert.equal(await bm.flushDirty(raw, layout), 1);
    });
  });
});
