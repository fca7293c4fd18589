import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { openBackingDisk } from '../../../agent/block/backing-disk.js';
import { Bitmap, readBitmap } from '../../../agent/engine/bitmap.js';
import { createActivityLog, readActivityLog, writeAlTransaction } from '../../../agent/engine/activity-log.js';
import {
  HISTORY_SIZE,
  MAX_NODES,
  MetadataError,
  computeLayout,
  createMetadata,
  decodeSuperblock,
  encodeSuperblock,
  freshMetadata,
  getPersistentReservation,
  probeSuperblocks,
  pushHistory,
  readMetadata,
  setBitmapUuid,
  setExtra,
  setPersistentReservation,
  toGenerationIds,
  withFlags,
  writeSuperblock,
  type Metadata,
} from '../../../agent/engine/metadata.js';
import { counting, withDisk } from './temp-disk.js';
import { UUID_JUST_CREATED } from '../../../agent/engine/uuid.js';

const MiB = 1 << 20;

function sample(md: Metadata): Metadata {
  let m = setBitmapUuid({ ...md, current: 0xdeadbeefcafef00dn, diskState: 'UpToDate' }, 1, 0x1111222233334444n);
  m = setBitmapUuid(m, 31, 0xffffffffffffffffn);
  m = { ...m, history: [0xaaaan, 0xbbbbn] };
  m = withFlags(m, { consistent: true, wasUpToDate: true, primary: true, peerOutdated: true, alClean: false });
  m = setPersistentReservation(m, Buffer.alloc(1024, 0x5a));
  return setExtra(m, 7, Buffer.from('hello'));
}

describe('superblock encoding', () => {
  test('round trip of every field', () => {
    const md = sample(freshMetadata(3, 64 * MiB));
    const dec = decodeSuperblock(encodeSuperblock(md, 9));
    assert.equal(dec.kind, 'valid');
    assert.ok(dec.kind === 'valid');
    assert.deepEqual(dec.md, { ...md, seq: 9 });
    assert.deepEqual(getPersistentReservation(dec.md), Buffer.alloc(1024, 0x5a));
  });

  test('any flipped byte is detected', () => {
    const buf = encodeSuperblock(sample(freshMetadata(0, 64 * MiB)), 1);
    for (const at of [0, 20, 50, 700, 4000, 4095]) {
      const bad = Buffer.from(buf);
      bad[at] = (bad[at] as number) ^ 0x40;
      assert.equal(decodeSuperblock(bad).kind, 'invalid', `byte ${at}`);
    }
  });

  test('limits: node-id, extras capacity, reservation size', () => {
    assert.throws(() => encodeSuperblock(freshMetadata(32, 0), 1), /node-id 32 out of range/);
    const md = freshMetadata(0, 0);
    assert.throws(() => setPersistentReservation(md, Buffer.alloc(1025)), /exceeds 1024/);
    assert.throws(() => setExtra(md, 2, Buffer.alloc(4000)), /extras full/);
    assert.throws(() => setExtra(md, 0, Buffer.alloc(1)), /tag 0/);
    assert.equal(getPersistentReservation(setPersistentReservation(setPersistentReservation(md, Buffer.alloc(3)), undefined)), undefined);
  });
});

describe('pushHistory', () => {
  const base = { current: 0x100n, bitmapUuids: [0n, 0x200n], history: [0x300n] as readonly bigint[] };
  test('pushes newest first', () => {
    assert.deepEqual(pushHistory(base, 0x400n).history, [0x400n, 0x300n]);
  });
  test('skips 0, 4, C, any B, and duplicates, ignoring the "was Primary" bit', () => {
    for (const u of [0n, 1n, 4n, 5n, 0x100n, 0x101n, 0x200n, 0x201n, 0x300n, 0x301n]) {
      assert.equal(pushHistory(base, u), base, `0x${u.toString(16)}`);
    }
  });
  test('keeps the 32 newest', () => {
    let m = base;
    for (let i = 1; i <= 40; i++) m = pushHistory(m, BigInt(i) << 16n);
    assert.equal(m.history.length, HISTORY_SIZE);
    assert.equal(m.history[0], 40n << 16n);
    assert.equal(m.history[31], 9n << 16n);
  });
});

describe('metadata on disk', () => {
  test('create-md writes a fresh area: C = 4, empty B and H, clean bitmap and AL', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      // Dirt where metadata goes, to see create-md clear it.
      await disk.write(Buffer.alloc(layout.mdBytes, 0xee), layout.mdOffset);
      await disk.write(Buffer.from('user data'), 0);
      assert.equal(await readMetadata(disk), null);
      const md = await createMetadata(disk, { nodeId: 1 });
      assert.equal(md.current, UUID_JUST_CREATED);
      assert.equal(md.nodeId, 1);
      assert.equal(md.dataBytes, layout.dataBytes);
      assert.equal(md.diskState, 'Inconsistent');
      assert.ok(md.flags.alClean && !md.flags.consistent && !md.flags.primary);
      assert.deepEqual(md.history, []);
      assert.ok(md.bitmapUuids.length === MAX_NODES && md.bitmapUuids.every((b) => b === 0n));
      assert.deepEqual(await readMetadata(disk), md);
      assert.equal((await readBitmap(disk, layout)).weight, 0);
      assert.deepEqual(await readActivityLog(disk, layout), { hot: [], seq: 0, invalidSlots: 0 });
      const head = Buffer.alloc(9);
      await disk.read(head, 0);
      assert.equal(head.toString(), 'user data', 'the data area is not touched');
      assert.deepEqual(toGenerationIds(md, [0]), { current: '0000000000000004', bitmap: { '0': '0000000000000000' }, history: [] });
    });
  });

  test('round trip through writeSuperblock / readMetadata, slots alternate', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      let md = await createMetadata(disk, { nodeId: 0 });
      const c = counting(disk);
      md = await writeSuperblock(c, sample(md));
      md = await writeSuperblock(c, { ...md, current: 0x42n });
      assert.deepEqual(
        c.writes.map((w) => w.pos),
        [layout.superblockOffsets[0], layout.superblockOffsets[1]],
      );
      assert.ok(c.syncs >= 2);
      // A fresh handle sees the newest.
      const again = await openBackingDisk(disk.path);
      try {
        assert.deepEqual(await readMetadata(again), md);
        assert.equal(md.seq, 3);
      } finally {
        await again.close();
      }
    });
  });

  test('a torn write of the next superblock leaves the previous version', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      const v1 = await writeSuperblock(disk, { ...(await createMetadata(disk, { nodeId: 0 })), current: 0x1000n });
      assert.equal(v1.seq, 2); // slot 0
      // The write of seq 3 goes to slot 1; only its first half lands.
      const v2 = encodeSuperblock({ ...v1, current: 0x2000n }, 3);
      await disk.write(v2.subarray(0, 2048), layout.superblockOffsets[1]);
      const fresh = await openBackingDisk(disk.path);
      try {
        assert.equal((await readMetadata(fresh))?.current, 0x1000n);
        // The next write goes to the damaged slot again, not over the survivor.
        const v3 = await writeSuperblock(fresh, { ...v1, current: 0x3000n });
        assert.equal(v3.seq, 3);
        assert.equal((await readMetadata(fresh))?.current, 0x3000n);
        const probe = await probeSuperblocks(fresh);
        assert.ok(probe.slots.every((s) => s.kind === 'valid'));
      } finally {
        await fresh.close();
      }
    });
  });

  test('garbage over the newest slot: the older copy survives; both bad: null', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      let md = await createMetadata(disk, { nodeId: 0 });
      md = await writeSuperblock(disk, { ...md, current: 0xa0n }); // seq 2, slot 0
      md = await writeSuperblock(disk, { ...md, current: 0xb0n }); // seq 3, slot 1
      assert.equal(md.seq, 3);
      await disk.write(Buffer.alloc(4096, 0x77), layout.superblockOffsets[1]);
      assert.equal((await readMetadata(disk))?.current, 0xa0n);
      // Flip one byte of the other slot too.
      const one = Buffer.alloc(1);
      await disk.read(one, layout.superblockOffsets[0] + 100);
      one[0] = (one[0] as number) ^ 1;
      await disk.write(one, layout.superblockOffsets[0] + 100);
      assert.equal(await readMetadata(disk), null);
    });
  });

  test('a hand-built Metadata (seq 0) still lands in the right slot', async () => {
    await withDisk(64 * MiB, async (disk) => {
      let md = await createMetadata(disk, { nodeId: 0 });
      for (let i = 0; i < 5; i++) md = await writeSuperblock(disk, { ...md, current: BigInt(i) << 8n });
      const fresh = await openBackingDisk(disk.path);
      try {
        const built = { ...freshMetadata(0, md.dataBytes), current: 0x777n };
        const w = await writeSuperblock(fresh, built);
        assert.equal(w.seq, md.seq + 1);
        assert.equal((await readMetadata(fresh))?.current, 0x777n);
      } finally {
        await fresh.close();
      }
    });
  });

  test('concurrent writes are serialized: the last one issued wins', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const md = await createMetadata(disk, { nodeId: 0 });
      const all = await Promise.all([1n, 2n, 3n, 4n, 5n].map((i) => writeSuperblock(disk, { ...md, current: i << 4n })));
      assert.deepEqual(
        all.map((m) => m.seq),
        [2, 3, 4, 5, 6],
      );
      assert.equal((await readMetadata(disk))?.current, 5n << 4n);
    });
  });

  test('create-md refuses to overwrite valid metadata and says what would be destroyed; --force does', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      const md = await createMetadata(disk, { nodeId: 0 });
      await writeSuperblock(disk, { ...md, current: 0xabcdef0123456788n, diskState: 'UpToDate' });
      const bm = new Bitmap(layout.blocks);
      bm.setBlocks(0, 3072); // 12 MiB
      await bm.flushDirty(disk, layout);
      await writeAlTransaction(disk, layout, createActivityLog({ hot: [1, 2], seq: 5 }), bm);

      await assert.rejects(
        createMetadata(disk, { nodeId: 0 }),
        (err: unknown) =>
          err instanceof MetadataError &&
          err.code === 'exists' &&
          err.message === `valid metadata found on ${disk.path} (node-id 0, UpToDate, current UUID ABCDEF0123456788, 12 MiB out of sync); use create-md --force to destroy it`,
      );
      assert.equal((await readMetadata(disk))?.current, 0xabcdef0123456788n, 'refusal changed nothing');

      const fresh = await createMetadata(disk, { nodeId: 1, force: true });
      assert.equal(fresh.current, UUID_JUST_CREATED);
      assert.deepEqual(await readMetadata(disk), fresh);
      assert.equal((await readBitmap(disk, layout)).weight, 0);
      assert.deepEqual((await readActivityLog(disk, layout)).hot, []);
      // And the AL's sequence numbers start over on the same handle.
      await writeAlTransaction(disk, layout, createActivityLog({ hot: [9], seq: 1 }), new Bitmap(layout.blocks));
      assert.deepEqual((await readActivityLog(disk, layout)).hot, [9]);
    });
  });

  test('metadata for another size is refused by readMetadata and named by create-md', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const md = await createMetadata(disk, { nodeId: 0 });
      await writeSuperblock(disk, { ...md, dataBytes: md.dataBytes - 4096 });
      await assert.rejects(readMetadata(disk), (e: unknown) => e instanceof MetadataError && e.code === 'size-mismatch' && /was it resized/.test(e.message));
      await assert.rejects(createMetadata(disk, { nodeId: 0 }), /valid metadata found on .*created for .* of data\); use create-md --force/);
    });
  });

  test('a newer format is neither used nor silently overwritten', async () => {
    await withDisk(64 * MiB, async (disk) => {
      const layout = computeLayout(disk.size);
      await createMetadata(disk, { nodeId: 0 });
      const buf = encodeSuperblock(freshMetadata(0, layout.dataBytes), 7);
      buf.writeUInt32LE(2, 8); // version
      const { crc32c } = await import('../../../agent/lib/crc32c.js');
      buf.writeUInt32LE(crc32c(buf, 0, 0, 4092), 4092);
      await disk.write(buf, layout.superblockOffsets[1]);
      await assert.rejects(readMetadata(disk), /format version 2, newer than this agent understands/);
      await assert.rejects(createMetadata(disk, { nodeId: 0 }), /newer format \(version 2\).*--force/);
      await createMetadata(disk, { nodeId: 0, force: true });
      assert.equal((await readMetadata(disk))?.current, UUID_JUST_CREATED);
    });
  });

  test('create-md on a too-small disk, or with a bad node-id', async () => {
    await withDisk(MiB, async (disk) => {
      await assert.rejects(createMetadata(disk, { nodeId: 0 }), /backing disk too small/);
    });
    await withDisk(8 * MiB, async (disk) => {
      await assert.rejects(createMetadata(disk, { nodeId: 40 }), /node-id 40 out of range/);
    });
  });
});
