import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  AL_SLOTS,
  AL_SLOT_BYTES,
  BLOCKS_PER_BITMAP_PAGE,
  BLOCK_BYTES,
  MIN_DATA_BYTES,
  SUPERBLOCK_BYTES,
  bitmapBytesFor,
  computeLayout,
  type MdLayout,
} from '../../../agent/engine/md-layout.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const FIXED = 2 * SUPERBLOCK_BYTES + AL_SLOTS * AL_SLOT_BYTES;

function checkInvariants(l: MdLayout): void {
  const end = Math.floor(l.diskBytes / BLOCK_BYTES) * BLOCK_BYTES;
  assert.equal(l.dataBytes % BLOCK_BYTES, 0);
  assert.equal(l.blocks * BLOCK_BYTES, l.dataBytes);
  assert.ok(l.dataBytes >= MIN_DATA_BYTES);
  assert.ok(l.dataBytes <= l.mdOffset, 'data overlaps metadata');
  assert.ok(l.mdOffset - l.dataBytes <= BLOCK_BYTES, `gap ${l.mdOffset - l.dataBytes}`);
  assert.equal(l.bitmapOffset, l.mdOffset);
  assert.equal(l.bitmapBytes, bitmapBytesFor(l.blocks));
  assert.ok(l.bitmapBytes * 8 >= l.blocks);
  assert.equal(l.bitmapBytes % 4096, 0);
  assert.equal(l.alOffset, l.bitmapOffset + l.bitmapBytes);
  assert.equal(l.superblockOffsets[0], l.alOffset + l.alSlots * l.alSlotBytes);
  assert.equal(l.superblockOffsets[1], l.superblockOffsets[0] + SUPERBLOCK_BYTES);
  assert.equal(l.superblockOffsets[1] + SUPERBLOCK_BYTES, end, 'superblocks end at the aligned end of the disk');
  assert.equal(l.mdOffset + l.mdBytes, end);
  // Maximal: one more data block would not fit with its bitmap.
  const more = l.blocks + 1;
  assert.ok(more * BLOCK_BYTES + bitmapBytesFor(more) + FIXED > end, 'data size is not maximal');
}

describe('computeLayout', () => {
  test('1 GiB: 262144 blocks would need 8 pages; solve gives slightly less data', () => {
    const l = computeLayout(GiB);
    checkInvariants(l);
    // 1 GiB - 264 KiB fixed = 262078 blocks: 262070 data blocks + 8 bitmap pages.
    assert.equal(l.blocks, 262070);
    assert.equal(l.bitmapBytes, 8 * 4096);
    assert.equal(l.superblockOffsets[1], GiB - 4096);
  });

  test('assorted sizes, unaligned ones and bitmap page boundaries', () => {
    const sizes = [
      GiB + 123,
      GiB - 1,
      10 * GiB,
      16 * 1024 * GiB,
      3 * MiB + 511,
      // around the point where data reaches exactly one bitmap page (128 MiB of data)
      ...[-2, -1, 0, 1, 2].map((d) => 128 * MiB + FIXED + 4096 + d * 4096),
      ...[-2, -1, 0, 1, 2].map((d) => 256 * MiB + FIXED + 2 * 4096 + d * 4096),
    ];
    for (const s of sizes) checkInvariants(computeLayout(s));
    // exactly 32768 blocks fit with one page; one more block needs a second page
    const one = computeLayout(128 * MiB + FIXED + 4096);
    assert.equal(one.blocks, BLOCKS_PER_BITMAP_PAGE);
    assert.equal(one.mdOffset, one.dataBytes);
    const gap = computeLayout(128 * MiB + FIXED + 2 * 4096);
    assert.equal(gap.blocks, BLOCKS_PER_BITMAP_PAGE, 'the extra 4 KiB cannot hold a block plus its page');
    assert.equal(gap.mdOffset - gap.dataBytes, 4096);
  });

  test('matches a brute-force search on a sweep of sizes', () => {
    for (let s = 1 * MiB + FIXED; s < 1 * MiB + FIXED + 200 * 4096; s += 4096 + 7) {
      let l: MdLayout;
      try {
        l = computeLayout(s);
      } catch {
        continue;
      }
      const end = Math.floor(s / 4096) * 4096;
      let n = 0;
      while ((n + 1) * 4096 + bitmapBytesFor(n + 1) + FIXED <= end) n++;
      assert.equal(l.blocks, n, `disk ${s}`);
    }
  });

  test('the minimum disk works; one block less is refused with a clear message', () => {
    const min = MIN_DATA_BYTES + FIXED + 4096;
    const l = computeLayout(min);
    checkInvariants(l);
    assert.equal(l.dataBytes, MIN_DATA_BYTES);
    assert.throws(() => computeLayout(min - 1), new RegExp(`^Error: backing disk too small \\(${min - 1} bytes\\): internal metadata needs 268 KiB and at least 1 MiB must remain for data; the minimum is ${min} bytes \\(1\\.26 MiB\\)$`));
    assert.throws(() => computeLayout(0), /too small/);
    assert.throws(() => computeLayout(-1), RangeError);
    assert.throws(() => computeLayout(17 * 1024 * GiB), /backing disk too large .*16 TiB/);
  });
});
