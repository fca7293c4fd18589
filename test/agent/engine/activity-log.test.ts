import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  AL_MAX_EXTENTS,
  EXTENT_BLOCKS,
  EXTENT_BYTES,
  applyAl,
  closeActivityLog,
  createActivityLog,
  decodeAlTransaction,
  encodeAlTransaction,
  extentsOfRange,
  readActivityLog,
  recoverActivityLog,
  touch,
  touchRange,
  writeAlTransaction,
  type ActivityLog,
} from '../../../agent/engine/activity-log.js';
import { Bitmap, blockSpan, readBitmap } from '../../../agent/engine/bitmap.js';
import { computeLayout } from '../../../agent/engine/md-layout.js';
import { createMetadata } from '../../../agent/engine/metadata.js';
import { createPrng } from '../../support/prng.js';
import { openBackingDisk } from '../../../agent/block/backing-disk.js';
import { counting, withDisk } from './temp-disk.js';

const MiB = 1 << 20;

describe('activity log state', () => {
  test('a hit returns the same state; a miss needs a transaction', () => {
    const al0 = createActivityLog({ maxHot: 3 });
    const r1 = touch(al0, 5);
    assert.ok(r1.needsTransaction && !r1.blocked && r1.evicted === undefined);
    assert.deepEqual(r1.al.hot, [5]);
    assert.equal(r1.al.seq, 1);
    const r2 = touch(r1.al, 5);
    assert.equal(r2.al, r1.al);
    assert.ok(!r2.needsTransaction);
  });

  test('eviction in activation order, never a busy extent; all busy: blocked', () => {
    let al = createActivityLog({ maxHot: 3 });
    for (const e of [1, 2, 3]) al = touch(al, e).al;
    const r = touch(al, 4, new Set([1]));
    assert.equal(r.evicted, 2);
    assert.deepEqual(r.al.hot, [1, 3, 4]);
    const b = touch(r.al, 9, new Set([1, 3, 4]));
    assert.ok(b.blocked && !b.needsTransaction);
    assert.equal(b.al, r.al);
  });

  test('touchRange: one transaction for all extents of a write, which do not evict each other', () => {
    let al = createActivityLog({ maxHot: 3 });
    al = touch(al, 100).al;
    assert.deepEqual(extentsOfRange(EXTENT_BYTES - 512, 1024), [0, 1]);
    assert.deepEqual(extentsOfRange(0, 0), []);
    const r = touchRange(al, EXTENT_BYTES - 512, EXTENT_BYTES + 1024);
    assert.deepEqual(r.al.hot, [0, 1, 2]);
    assert.deepEqual(r.evicted, [100]);
    assert.equal(r.al.seq, al.seq + 1);
    assert.throws(() => touchRange(al, 0, 4 * EXTENT_BYTES), /spans 4 extents/);
    const hit = touchRange(r.al, EXTENT_BYTES, 4096);
    assert.equal(hit.al, r.al);
    assert.ok(!hit.needsTransaction);
  });

  test('capacity limits', () => {
    assert.ok(AL_MAX_EXTENTS >= 1237);
    assert.equal(createActivityLog().maxHot, 1237);
    assert.throws(() => createActivityLog({ maxHot: AL_MAX_EXTENTS + 1 }), /al-extents/);
    assert.throws(() => createActivityLog({ maxHot: 0 }), /al-extents/);
  });

  test('applyAl marks whole extents, clipped at the end of the volume', () => {
    const bm = new Bitmap(EXTENT_BLOCKS * 2 + 10);
    assert.equal(applyAl(bm, [0, 2, 7]), EXTENT_BLOCKS + 10);
    assert.ok(bm.test(0) && bm.test(EXTENT_BLOCKS - 1) && !bm.test(EXTENT_BLOCKS) && bm.test(2 * EXTENT_BLOCKS + 9));
  });
});

describe('activity log on disk', () => {
  test('transaction encode/decode; a full default-size log fits one transaction', () => {
    let al: ActivityLog = createActivityLog();
    for (let e = 0; e < 1300; e++) al = touch(al, e * 7).al;
    assert.equal(al.hot.length, 1237);
    const t = decodeAlTransaction(encodeAlTransaction(al, 8192));
    assert.deepEqual(t, { valid: true, seq: al.seq, maxHot: 1237, hot: al.hot });
  });

  test('round-robin ring: the newest valid transaction wins, also after wrapping', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      await createMetadata(disk, { nodeId: 0 });
      const bm = new Bitmap(layout.blocks);
      let al = createActivityLog({ maxHot: 4 });
      const c = counting(disk);
      for (let e = 0; e < 50; e++) {
        const r = touch(al, e);
        al = r.al;
        await writeAlTransaction(c, layout, al, bm);
      }
      const slots = new Set(c.writes.map((w) => (w.pos - layout.alOffset) / layout.alSlotBytes));
      assert.equal(slots.size, layout.alSlots, 'every ring slot used');
      const replay = await readActivityLog(disk, layout);
      assert.deepEqual(replay, { hot: [46, 47, 48, 49], seq: 50, invalidSlots: 0 });
    });
  });

  test('rule 2c: only a transaction that drops an extent or writes bitmap pages waits for an fdatasync', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      await createMetadata(disk, { nodeId: 0 });
      const bm = new Bitmap(layout.blocks);
      const c = counting(disk);
      // What attach does first: the hot set on disk is known from here on.
      let al = createActivityLog({ maxHot: 3, seq: (await readActivityLog(c, layout)).seq });
      for (const e of [1, 2]) {
        al = touch(al, e).al;
        await writeAlTransaction(c, layout, al, bm);
      }
      assert.equal(c.syncs, 0, 'adding extents: the O_DSYNC transaction write alone');
      bm.setBlocks(0, 1);
      al = touch(al, 3).al;
      await writeAlTransaction(c, layout, al, bm);
      assert.equal(c.syncs, 1, 'bitmap pages to write: data first');
      al = touch(al, 4).al; // evicts 1
      await writeAlTransaction(c, layout, al, bm);
      assert.equal(c.syncs, 2, 'dropping extent 1: its data reaches stable storage first');
      assert.deepEqual((await readActivityLog(disk, layout)).hot, [2, 3, 4]);
    });
  });

  test('a torn newest transaction is ignored: the previous one is replayed', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      await createMetadata(disk, { nodeId: 0 });
      const bm = new Bitmap(layout.blocks);
      let al = createActivityLog({ maxHot: 8 });
      for (const e of [3, 4]) {
        al = touch(al, e).al;
        await writeAlTransaction(disk, layout, al, bm);
      }
      // Transaction 3 (extent 5) is torn: only its first 4 KiB reached the disk.
      const torn = touch(al, 5).al;
      const img = encodeAlTransaction(torn, layout.alSlotBytes);
      await disk.write(img.subarray(0, 4096), layout.alOffset + (torn.seq % layout.alSlots) * layout.alSlotBytes);
      // And one slot holds plain garbage.
      await disk.write(Buffer.alloc(layout.alSlotBytes, 0x33), layout.alOffset + 20 * layout.alSlotBytes);
      const replay = await readActivityLog(disk, layout);
      assert.deepEqual(replay.hot, [3, 4]);
      assert.equal(replay.seq, 2);
      assert.equal(replay.invalidSlots, 2);
    });
  });

  test('the transaction flushes dirty bitmap pages first; an older state is skipped', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      await createMetadata(disk, { nodeId: 0 });
      const c = counting(disk);
      const bm = new Bitmap(layout.blocks);
      const al1 = touch(createActivityLog({ maxHot: 2 }), 0).al;
      const al2 = touch(al1, 1).al;
      bm.setBlocks(3, 1);
      await writeAlTransaction(c, layout, al2, bm);
      assert.deepEqual(
        c.writes.map((w) => w.pos),
        [layout.bitmapOffset, layout.alOffset + 2 * layout.alSlotBytes],
      );
      await writeAlTransaction(c, layout, al1, bm);
      assert.equal(c.writes.length, 2, 'older state not written over a newer one');
      assert.deepEqual((await readActivityLog(c, layout)).hot, [0, 1]);
    });
  });

  test('recovery applies hot extents to the bitmap and empties the log; close leaves it empty', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      await createMetadata(disk, { nodeId: 0 });
      let bm = new Bitmap(layout.blocks);
      let al = createActivityLog({ maxHot: 4 });
      for (const e of [2, 5]) {
        al = touch(al, e).al;
        await writeAlTransaction(disk, layout, al, bm);
      }
      // crash: everything in memory is gone
      const again = await openBackingDisk(disk.path);
      try {
        bm = await readBitmap(again, layout);
        const rec = await recoverActivityLog(again, layout, bm, { maxHot: 4 });
        assert.deepEqual(rec.applied, [2, 5]);
        assert.equal(rec.newlySet, 2 * EXTENT_BLOCKS);
        assert.deepEqual(rec.al.hot, []);
        assert.equal((await readBitmap(again, layout)).weight, 2 * EXTENT_BLOCKS, 'applied bits are persisted');
        assert.deepEqual((await readActivityLog(again, layout)).hot, []);
        // a second recovery applies nothing more
        const rec2 = await recoverActivityLog(again, layout, bm);
        assert.equal(rec2.newlySet, 0);

        let al2 = touch(rec2.al, 9).al;
        await writeAlTransaction(again, layout, al2, bm);
        bm.setBlocks(9 * EXTENT_BLOCKS, 1);
        al2 = await closeActivityLog(again, layout, al2, bm);
        assert.deepEqual((await readActivityLog(again, layout)).hot, []);
        assert.ok((await readBitmap(again, layout)).test(9 * EXTENT_BLOCKS), 'close flushed the bitmap');
      } finally {
        await again.close();
      }
    });
  });
});

describe('crash invariant', () => {
  // A small engine model: writes go through the AL exactly as the engine must use it, some
  // writes set bits (peer away or negative ack), bits get cleared (resync), the bitmap is
  // flushed now and then, and at random points the node "crashes": memory is dropped and the
  // disk reread. Every block that may differ from the peer must then be set in the persisted
  // bitmap or lie in a hot extent of the persisted AL.
  for (const seed of [1, 2, 3, 4]) {
    test(`random writes and crashes, seed ${seed}`, async () => {
      await withDisk(48 * MiB, async (disk) => {
        const layout = computeLayout(disk.size);
        await createMetadata(disk, { nodeId: 0 });
        const r = createPrng(seed);
        const extents = Math.ceil(layout.dataBytes / EXTENT_BYTES);
        const blocks = layout.blocks;
        let bm = await readBitmap(disk, layout);
        let al = (await recoverActivityLog(disk, layout, bm, { maxHot: 3 })).al;
        /** In flight: issued, not completed; may or may not have reached the peer. */
        let inflight: Array<{ offset: number; length: number }> = [];
        let connected = true;
        let crashes = 0;
        let evictions = 0;

        const busy = () => {
          const s = new Set<number>();
          for (const w of inflight) for (const e of extentsOfRange(w.offset, w.length)) s.add(e);
          return s;
        };
        const complete = () => {
          const w = inflight.shift();
          // A write the peer did not acknowledge is marked out of sync.
          if (w && (!connected || r.int(10) === 0)) bm.setRange(w.offset, w.length);
        };

        for (let step = 0; step < 1500; step++) {
          const op = r.int(100);
          if (op < 60) {
            // Application write, mostly in a few hot extents to get hits as well as evictions.
            const extent = r.int(3) === 0 ? r.int(extents) : r.int(4);
            const offset = Math.min(extent * EXTENT_BYTES + r.int(EXTENT_BYTES / 512) * 512, layout.dataBytes - 512);
            const length = Math.min(512 * (1 + r.int(64)), layout.dataBytes - offset);
            let t = touchRange(al, offset, length, busy());
            while (t.blocked) {
              complete();
              t = touchRange(al, offset, length, busy());
            }
            if (t.needsTransaction) {
              evictions += t.evicted.length;
              await writeAlTransaction(disk, layout, t.al, bm);
            }
            al = t.al;
            inflight.push({ offset, length });
            if (inflight.length > 4) complete();
          } else if (op < 75) {
            complete();
          } else if (op < 80) {
            connected = !connected;
          } else if (op < 85) {
            // Resync cleared some bits.
            const s = bm.nextRun(r.int(blocks), 1 + r.int(300));
            if (s) bm.clearBlocks(s.first, s.count);
          } else if (op < 90) {
            await bm.flushDirty(disk, layout);
          } else if (op < 93) {
            // Crash. What may differ from the peer: bits set in memory and in-flight writes.
            const mayDiffer = new Set<number>();
            for (let b = bm.nextSet(0); b >= 0; b = bm.nextSet(b + 1)) mayDiffer.add(b);
            for (const w of inflight) {
              const s = blockSpan(w.offset, w.length, 'outward');
              for (let b = s.first; b < s.first + s.count; b++) mayDiffer.add(b);
            }
            const fresh = await openBackingDisk(disk.path);
            try {
              const persisted = await readBitmap(fresh, layout);
              const replay = await readActivityLog(fresh, layout);
              const hot = new Set(replay.hot);
              for (const b of mayDiffer) {
                assert.ok(persisted.test(b) || hot.has(Math.floor(b / EXTENT_BLOCKS)), `seed ${seed} step ${step}: block ${b} neither in the persisted bitmap nor in a hot extent`);
              }
              // Restart: recovery must cover the same set in the bitmap alone.
              bm = persisted;
              const rec = await recoverActivityLog(fresh, layout, bm, { maxHot: 3 });
              for (const b of mayDiffer) assert.ok(bm.test(b), `block ${b} lost by recovery`);
              al = rec.al;
            } finally {
              await fresh.close();
            }
            inflight = [];
            crashes++;
          }
        }
        assert.ok(crashes > 10, `only ${crashes} crashes`);
        assert.ok(evictions > 50, `only ${evictions} evictions`);
      });
    });
  }
});
