// Where the internal metadata lives on a backing disk. Pure arithmetic on the disk size, so
// that every reader (attach, create-md, recovery tools, tests) finds the same offsets.
//
//   0                    dataBytes  mdOffset = bitmapOffset   alOffset        sb A    sb B   end
//   | exposed data ...   | (gap)   | bitmap (peer slot 0)    | AL ring       | 4 KiB | 4 KiB |
//
// The superblocks and the AL ring sit at fixed distances from the (4 KiB aligned) end of the
// disk, so they can be found from the disk size alone; the bitmap's size depends on how much
// data it covers and is solved for below. The gap is 0 or 4 KiB: it appears when one more data
// block would need one more bitmap page than fits.
//
// One bitmap slot: the product is a two-node pair, so each node tracks one peer. The
// superblock already holds bitmap UUIDs for node-ids 0..31; more peers would get more bitmap
// slots of `bitmapBytes` each, stacked downwards from alOffset (slot k at
// alOffset - (k + 1) * bitmapBytes), and the superblock would map peer node-id -> slot.

export const BLOCK_BYTES = 4096;
export const SUPERBLOCK_BYTES = 4096;
/** Activity-log transactions: each holds the whole hot set (see activity-log.ts). */
export const AL_SLOT_BYTES = 8192;
export const AL_SLOTS = 32;
/** A bitmap page: the unit of lazy bitmap writes; covers 32768 blocks = 128 MiB of data. */
export const BITMAP_PAGE_BYTES = 4096;
export const BLOCKS_PER_BITMAP_PAGE = BITMAP_PAGE_BYTES * 8;
export const MIN_DATA_BYTES = 1 << 20;
/** Block numbers are handled as uint32 in the bitmap's hot paths: 16 TiB of data at most. */
export const MAX_BLOCKS = 2 ** 32 - 1;

export interface MdLayout {
  /** The whole backing disk, as given. */
  readonly diskBytes: number;
  /** Exposed size: what the block device shows; a multiple of 4 KiB. */
  readonly dataBytes: number;
  /** Data blocks (4 KiB), one bitmap bit each. */
  readonly blocks: number;
  /** Start of the metadata area (= bitmapOffset). */
  readonly mdOffset: number;
  readonly mdBytes: number;
  /** Two superblock slots, written alternately. */
  readonly superblockOffsets: readonly [number, number];
  readonly alOffset: number;
  readonly alSlots: number;
  readonly alSlotBytes: number;
  readonly bitmapOffset: number;
  /** Bytes of the bitmap on disk: ceil(blocks / 8) padded to whole 4 KiB pages. */
  readonly bitmapBytes: number;
}

export function bitmapBytesFor(blocks: number): number {
  return Math.ceil(blocks / BLOCKS_PER_BITMAP_PAGE) * BITMAP_PAGE_BYTES;
}

function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${Number((n / (1 << 20)).toFixed(2))} MiB`;
  return n >= 1024 ? `${Number((n / 1024).toFixed(2))} KiB` : `${n} bytes`;
}

export function computeLayout(diskBytes: number): MdLayout {
  if (!Number.isSafeInteger(diskBytes) || diskBytes < 0) throw new RangeError(`bad disk size ${diskBytes}`);
  const end = Math.floor(diskBytes / BLOCK_BYTES) * BLOCK_BYTES;
  const fixed = 2 * SUPERBLOCK_BYTES + AL_SLOTS * AL_SLOT_BYTES;
  const minDisk = MIN_DATA_BYTES + fixed + bitmapBytesFor(MIN_DATA_BYTES / BLOCK_BYTES);
  if (end < minDisk) {
    throw new Error(
      `backing disk too small (${diskBytes} bytes): internal metadata needs ${formatBytes(fixed + BITMAP_PAGE_BYTES)} ` +
        `and at least ${formatBytes(MIN_DATA_BYTES)} must remain for data; the minimum is ${minDisk} bytes (${formatBytes(minDisk)})`,
    );
  }
  // Largest n with n data blocks + their bitmap pages fitting in m blocks. The count
  // n + ceil(n / 32768) grows with n, so start from the real-valued solution and step.
  const m = (end - fixed) / BLOCK_BYTES;
  const fits = (n: number): boolean => n + Math.ceil(n / BLOCKS_PER_BITMAP_PAGE) <= m;
  let blocks = m - Math.ceil(m / (BLOCKS_PER_BITMAP_PAGE + 1));
  while (fits(blocks + 1)) blocks++;
  while (!fits(blocks)) blocks--;

  if (blocks > MAX_BLOCKS) {
    throw new Error(`backing disk too large (${diskBytes} bytes): at most ${MAX_BLOCKS * BLOCK_BYTES} bytes (16 TiB) of data are supported`);
  }
  const bitmapBytes = bitmapBytesFor(blocks);
  const sbB = end - SUPERBLOCK_BYTES;
  const sbA = sbB - SUPERBLOCK_BYTES;
  const alOffset = sbA - AL_SLOTS * AL_SLOT_BYTES;
  const bitmapOffset = alOffset - bitmapBytes;
  return {
    diskBytes,
    dataBytes: blocks * BLOCK_BYTES,
    blocks,
    mdOffset: bitmapOffset,
    mdBytes: end - bitmapOffset,
    superblockOffsets: [sbA, sbB],
    alOffset,
    alSlots: AL_SLOTS,
    alSlotBytes: AL_SLOT_BYTES,
    bitmapOffset,
    bitmapBytes,
  };
}
