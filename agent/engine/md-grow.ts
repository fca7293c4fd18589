// Growing a volume's backing disk under internal metadata: the metadata sits at the end
// (md-layout.ts), so after the disk grew it moves to the new end and the old metadata area
// becomes data. Called on a cleanly detached volume (bitmap on disk, AL empty, alClean set).
import { zeroRange, type BackingDisk } from '../block/backing-disk.js';
import { Bitmap } from './bitmap.js';
import { computeLayout, SUPERBLOCK_BYTES, type MdLayout } from './md-layout.js';
import { writeSuperblock, type Metadata } from './metadata.js';

/**
 * Writes `md` and `bitmap` (grown, the new blocks clear) at the end of `disk`, which is the
 * same disk grown since `from` was its layout, and returns the new layout. The blocks that
 * become data (old metadata, and whatever the added space held) are zeroed, on both nodes
 * alike, so the two copies of the new area are equal without a resync. A crash before the
 * new superblock is written leaves no metadata at the new end: attach then says so.
 */
export async function growMetadata(disk: BackingDisk, from: MdLayout, md: Metadata, bitmap: Bitmap): Promise<MdLayout> {
  const next = computeLayout(disk.size);
  if (next.dataBytes <= from.dataBytes) throw new Error(`${disk.path}: the disk leaves ${next.dataBytes} bytes for data, not more than ${from.dataBytes}`);
  await zeroRange(disk, next.alOffset, next.alSlots * next.alSlotBytes + 2 * SUPERBLOCK_BYTES);
  await Bitmap.fromBytes(bitmap.toBytes(), next.blocks).flushAll(disk, next);
  await writeSuperblock(disk, { ...md, dataBytes: next.dataBytes });
  const oldEnd = from.mdOffset + from.mdBytes;
  await zeroRange(disk, from.dataBytes, Math.min(oldEnd, next.mdOffset) - from.dataBytes);
  if (next.mdOffset > oldEnd) await disk.discard(oldEnd, next.mdOffset - oldEnd);
  await disk.sync();
  return next;
}
