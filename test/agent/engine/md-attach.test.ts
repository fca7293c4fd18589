import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { openBackingDisk } from '../../../agent/block/backing-disk.js';
import { EXTENT_BLOCKS, touch, writeAlTransaction } from '../../../agent/engine/activity-log.js';
import { readBitmap } from '../../../agent/engine/bitmap.js';
import { attachMetadata, detachMetadata } from '../../../agent/engine/md-attach.js';
import { createMetadata, readMetadata, withFlags, writeSuperblock } from '../../../agent/engine/metadata.js';
import { withDisk } from './temp-disk.js';

const MiB = 1 << 20;

describe('attach / detach', () => {
  test('refuses a disk without metadata', async () => {
    await withDisk(16 * MiB, async (disk) => {
      await assert.rejects(attachMetadata(disk), /no valid metadata on .*; run create-md first/);
    });
  });

  test('clean cycle: nothing applied, alClean recorded', async () => {
    await withDisk(16 * MiB, async (disk) => {
      await createMetadata(disk, { nodeId: 0 });
      const a = await attachMetadata(disk, { maxHot: 8 });
      assert.ok(!a.crashed);
      assert.deepEqual(a.applied, []);
      assert.equal((await readMetadata(disk))?.flags.alClean, false, 'in use is persisted before any write');
      const t = touch(a.al, 1);
      await writeAlTransaction(disk, a.layout, t.al, a.bitmap);
      a.bitmap.setBlocks(EXTENT_BLOCKS + 3, 1);
      const md = await detachMetadata(disk, { ...a, al: t.al });
      assert.ok(md.flags.alClean);
      const b = await attachMetadata(disk);
      assert.ok(!b.crashed);
      assert.deepEqual(b.applied, []);
      assert.equal(b.bitmap.weight, 1);
    });
  });

  test('crash as Primary: hot extents applied, crashedPrimary set', async () => {
    await withDisk(16 * MiB, async (disk) => {
      await createMetadata(disk, { nodeId: 0 });
      const a = await attachMetadata(disk, { maxHot: 8 });
      await writeSuperblock(disk, withFlags(a.md, { primary: true }));
      const t = touch(a.al, 2);
      await writeAlTransaction(disk, a.layout, t.al, a.bitmap);
      // kill -9: reopen without detach
      const again = await openBackingDisk(disk.path);
      try {
        const b = await attachMetadata(again);
        assert.ok(b.crashed);
        assert.deepEqual(b.applied, [2]);
        assert.ok(b.md.flags.crashedPrimary && !b.md.flags.primary);
        assert.equal((await readBitmap(again, b.layout)).weight, EXTENT_BLOCKS);
      } finally {
        await again.close();
      }
    });
  });
});
