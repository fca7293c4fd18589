// The out-of-sync bitmap for one peer: one bit per 4 KiB block, set = "this block may differ
// from the peer". Held in memory as 32-bit words (bit i of the volume is bit i%32 of word
// i/32, which on disk is byte i/8, bit i%8: little-endian words, LSB first); the weight (set
// bits) is maintained incrementally so progress and `out-of-sync` cost O(1).
//
// Persistence is lazy: every word change marks its 4 KiB page dirty, and flushes write only
// dirty pages. Bits that are set in memory but not yet on disk are safe only inside a hot
// activity-log extent (activity-log.ts): before an extent leaves the activity log, the pages
// covering it must be flushed (flushBlocks). Bits set for any other reason (verify mismatch,
// invalidate) must be flushed before they are relied on.
//
// Pages carry no checksum: a torn page write leaves each sector either old or new, and both
// are safe. A bit being cleared was cleared because the block is in sync; a bit being set lies
// in a hot extent, and the AL transaction that could drop that extent is written only after
// this flush has completed.
import { endianness } from 'node:os';
import type { BackingDisk } from '../block/backing-disk.js';
import { BITMAP_PAGE_BYTES, BLOCKS_PER_BITMAP_PAGE, BLOCK_BYTES, MAX_BLOCKS, bitmapBytesFor, type MdLayout } from './md-layout.js';

const WORDS_PER_PAGE = BITMAP_PAGE_BYTES / 4;
const LITTLE_ENDIAN = endianness() === 'LE';

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Index of the lowest set bit of a non-zero word. */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Mask of n bits starting at bit `from` (n in 1..32, from + n <= 32). */
function mask(from: number, n: number): number {
  return ((0xffffffff >>> (32 - n)) << from) >>> 0;
}

export interface BlockSpan {
  first: number;
  count: number;
}

/**
 * Blocks touched by a byte range. 'outward' (for setting bits): every block the range touches,
 * since a partial write still changes the block. 'inward' (for clearing): only blocks the range
 * covers completely, since a partially synced block is still out of sync.
 */
export function blockSpan(offset: number, length: number, mode: 'outward' | 'inward'): BlockSpan {
  if (mode === 'outward') {
    const first = Math.floor(offset / BLOCK_BYTES);
    const end = length > 0 ? Math.ceil((offset + length) / BLOCK_BYTES) : first;
    return { first, count: end - first };
  }
  const first = Math.ceil(offset / BLOCK_BYTES);
  const end = Math.floor((offset + length) / BLOCK_BYTES);
  return { first, count: Math.max(0, end - first) };
}

export class Bitmap {
  readonly blocks: number;
  /** On-disk size: whole 4 KiB pages. */
  readonly bytes: number;
  private readonly words: Uint32Array;
  private readonly dirty: Uint8Array;
  /** Set bits per page: lets scans skip empty (or full) 128 MiB stretches of big volumes. */
  private readonly pageWeight: Int32Array;
  private dirtyCount = 0;
  private setBits = 0;

  constructor(blocks: number) {
    if (!Number.isSafeInteger(blocks) || blocks < 0 || blocks > MAX_BLOCKS) throw new RangeError(`bad block count ${blocks}`);
    this.blocks = blocks;
    this.bytes = bitmapBytesFor(blocks);
    this.words = new Uint32Array(this.bytes / 4);
    this.dirty = new Uint8Array(this.bytes / BITMAP_PAGE_BYTES);
    this.pageWeight = new Int32Array(this.dirty.length);
  }

  /** Set bits: blocks out of sync. */
  get weight(): number {
    return this.setBits;
  }

  get dirtyPageCount(): number {
    return this.dirtyCount;
  }

  test(block: number): boolean {
    this.check(block, 1);
    return (((this.words[block >>> 5] as number) >>> (block & 31)) & 1) === 1;
  }

  /** Sets blocks [first, first+count); returns how many were newly set. */
  setBlocks(first: number, count: number): number {
    this.check(first, count);
    let added = 0;
    let b = first;
    const end = first + count;
    while (b < end) {
      const w = b >>> 5;
      const bit = b & 31;
      const n = Math.min(32 - bit, end - b);
      const old = this.words[w] as number;
      const now = (old | mask(bit, n)) >>> 0;
      if (now !== old) added += this.store(w, old, now);
      b += n;
    }
    this.setBits += added;
    return added;
  }

  /** Clears blocks [first, first+count); returns how many were cleared. */
  clearBlocks(first: number, count: number): number {
    this.check(first, count);
    let removed = 0;
    let b = first;
    const end = first + count;
    while (b < end) {
      const w = b >>> 5;
      const bit = b & 31;
      const n = Math.min(32 - bit, end - b);
      const old = this.words[w] as number;
      const now = (old & ~mask(bit, n)) >>> 0;
      if (now !== old) removed -= this.store(w, old, now);
      b += n;
    }
    this.setBits -= removed;
    return removed;
  }

  /** Set bits among blocks [first, first+count). */
  countBlocks(first: number, count: number): number {
    this.check(first, count);
    let total = 0;
    let b = first;
    const end = first + count;
    while (b < end) {
      const bit = b & 31;
      const n = Math.min(32 - bit, end - b);
      total += popcount((this.words[b >>> 5] as number) & mask(bit, n));
      b += n;
    }
    return total;
  }

  /** Marks every block touched by the byte range (rounding outward); returns newly set blocks. */
  setRange(offset: number, length: number): number {
    const s = blockSpan(offset, length, 'outward');
    return this.setBlocks(s.first, s.count);
  }

  /** Clears only blocks fully inside the byte range (rounding inward); returns cleared blocks. */
  clearRange(offset: number, length: number): number {
    const s = blockSpan(offset, length, 'inward');
    return this.clearBlocks(s.first, s.count);
  }

  /** Whether any block touched by the byte range is set. */
  testRange(offset: number, length: number): boolean {
    const s = blockSpan(offset, length, 'outward');
    return this.countBlocks(s.first, s.count) > 0;
  }

  setAll(): void {
    this.setBlocks(0, this.blocks);
  }

  clearAll(): void {
    this.clearBlocks(0, this.blocks);
  }

  /** First set block at or after `from`, or -1. */
  nextSet(from: number): number {
    if (from >= this.blocks || this.setBits === 0) return -1;
    let w = from >>> 5;
    let word = ((this.words[w] as number) & mask(from & 31, 32 - (from & 31))) >>> 0;
    const nwords = Math.ceil(this.blocks / 32);
    while (word === 0) {
      w++;
      while (w % WORDS_PER_PAGE === 0 && w < nwords && this.pageWeight[w / WORDS_PER_PAGE] === 0) w += WORDS_PER_PAGE;
      if (w >= nwords) return -1;
      word = this.words[w] as number;
    }
    // Bits past `blocks` are never set, so the result is in range.
    return w * 32 + lowestBit(word);
  }

  /** First clear block at or after `from`, or `blocks` if none. */
  nextClear(from: number): number {
    if (from >= this.blocks) return this.blocks;
    let w = from >>> 5;
    let word = (~(this.words[w] as number) & mask(from & 31, 32 - (from & 31))) >>> 0;
    const nwords = Math.ceil(this.blocks / 32);
    while (word === 0) {
      w++;
      while (w % WORDS_PER_PAGE === 0 && w < nwords && this.pageWeight[w / WORDS_PER_PAGE] === BLOCKS_PER_BITMAP_PAGE) w += WORDS_PER_PAGE;
      if (w >= nwords) return this.blocks;
      word = ~(this.words[w] as number) >>> 0;
    }
    return Math.min(this.blocks, w * 32 + lowestBit(word));
  }

  /** The first run of set blocks at or after `from`, at most maxBlocks long (resync requests). */
  nextRun(from: number, maxBlocks: number): BlockSpan | null {
    const first = this.nextSet(from);
    if (first < 0) return null;
    const end = Math.min(this.nextClear(first), first + Math.max(1, maxBlocks));
    return { first, count: end - first };
  }

  /** Sets every bit set in `other` (same size); returns newly set blocks. */
  or(other: Bitmap): number {
    if (other.blocks !== this.blocks) throw new RangeError(`bitmap size mismatch: ${other.blocks} vs ${this.blocks} blocks`);
    return this.orWords(other.words);
  }

  /** OR on-disk / on-wire bytes (as produced by toBytes) into this bitmap. */
  orBytes(bytes: Uint8Array): number {
    return this.orWords(wordsOf(bytes, this.words.length));
  }

  /** The on-disk form: `bytes` bytes, padding bits zero. A copy. */
  toBytes(): Buffer {
    const out = Buffer.from(this.words.buffer.slice(0));
    return LITTLE_ENDIAN ? out : out.swap32();
  }

  static fromBytes(bytes: Uint8Array, blocks: number): Bitmap {
    const bm = new Bitmap(blocks);
    bm.words.set(wordsOf(bytes, bm.words.length));
    for (let p = 0; p < bm.pageWeight.length; p++) {
      let n = 0;
      for (let i = p * WORDS_PER_PAGE; i < (p + 1) * WORDS_PER_PAGE; i++) n += popcount(bm.words[i] as number);
      bm.pageWeight[p] = n;
    }
    bm.clearPadding();
    let total = 0;
    for (const pw of bm.pageWeight) total += pw;
    bm.setBits = total;
    bm.dirty.fill(0);
    bm.dirtyCount = 0;
    return bm;
  }

  get hasDirtyPages(): boolean {
    return this.dirtyCount > 0;
  }

  /** Page indexes that differ (maybe) from disk, ascending. */
  dirtyPages(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.dirty.length; p++) if (this.dirty[p]) out.push(p);
    return out;
  }

  /** Writes the dirty pages and syncs; returns pages written. */
  flushDirty(disk: BackingDisk, layout: MdLayout): Promise<number> {
    return this.flushPages(disk, layout, 0, this.dirty.length);
  }

  /** Writes the dirty pages that hold any of blocks [first, first+count) and syncs. */
  flushBlocks(disk: BackingDisk, layout: MdLayout, first: number, count: number): Promise<number> {
    const end = Math.min(first + count, this.blocks);
    if (first < 0 || end <= first) return Promise.resolve(0);
    return this.flushPages(disk, layout, Math.floor(first / BLOCKS_PER_BITMAP_PAGE), Math.floor((end - 1) / BLOCKS_PER_BITMAP_PAGE) + 1);
  }

  /** Writes the whole bitmap (create-md, after bulk changes) and syncs. */
  async flushAll(disk: BackingDisk, layout: MdLayout): Promise<void> {
    this.checkLayout(layout);
    this.dirty.fill(0);
    this.dirtyCount = 0;
    // Snapshot first: bits set while the write is in flight re-mark their page.
    const snapshot = this.toBytes();
    try {
      await disk.write(snapshot, layout.bitmapOffset);
      await disk.sync();
    } catch (err) {
      this.dirty.fill(1);
      this.dirtyCount = this.dirty.length;
      throw err;
    }
  }

  private async flushPages(disk: BackingDisk, layout: MdLayout, fromPage: number, toPage: number): Promise<number> {
    this.checkLayout(layout);
    // Copy and clean each page synchronously, so a bit set while the writes are in flight
    // marks its page dirty again instead of being lost.
    const pages: Array<{ page: number; buf: Buffer }> = [];
    for (let p = fromPage; p < toPage; p++) {
      if (!this.dirty[p]) continue;
      const words = this.words.slice(p * WORDS_PER_PAGE, (p + 1) * WORDS_PER_PAGE);
      const buf = Buffer.from(words.buffer);
      pages.push({ page: p, buf: LITTLE_ENDIAN ? buf : buf.swap32() });
      this.dirty[p] = 0;
      this.dirtyCount--;
    }
    if (pages.length === 0) return 0;
    try {
      for (const { page, buf } of pages) await disk.write(buf, layout.bitmapOffset + page * BITMAP_PAGE_BYTES, { durable: true });
    } catch (err) {
      for (const { page } of pages) {
        if (!this.dirty[page]) this.dirtyCount++;
        this.dirty[page] = 1;
      }
      throw err;
    }
    return pages.length;
  }

  private orWords(src: Uint32Array): number {
    let added = 0;
    for (let w = 0; w < this.words.length; w++) {
      const s = src[w] as number;
      if (s === 0) continue;
      const old = this.words[w] as number;
      const now = (old | s) >>> 0;
      if (now !== old) added += this.store(w, old, now);
    }
    // Foreign padding bits must not count or leak past `blocks`.
    added -= this.clearPadding();
    this.setBits += added;
    return added;
  }

  /** Clears bits past `blocks`; returns how many were set. */
  private clearPadding(): number {
    let removed = 0;
    const tail = this.blocks & 31;
    let w = this.blocks >>> 5;
    if (tail !== 0 && w < this.words.length) {
      const old = this.words[w] as number;
      const now = (old & mask(0, tail)) >>> 0;
      if (now !== old) removed -= this.store(w, old, now);
      w++;
    }
    for (; w < this.words.length; w++) {
      const old = this.words[w] as number;
      if (old !== 0) removed -= this.store(w, old, 0);
    }
    return removed;
  }

  /** Replaces word w (old -> now), keeping page weight and dirty state; returns the bit delta. */
  private store(w: number, old: number, now: number): number {
    const d = popcount(now) - popcount(old);
    this.words[w] = now;
    const p = (w / WORDS_PER_PAGE) | 0;
    this.pageWeight[p] = (this.pageWeight[p] as number) + d;
    this.markDirty(w);
    return d;
  }

  private markDirty(word: number): void {
    const p = (word / WORDS_PER_PAGE) | 0;
    if (!this.dirty[p]) {
      this.dirty[p] = 1;
      this.dirtyCount++;
    }
  }

  private check(first: number, count: number): void {
    if (!(first >= 0 && count >= 0 && first + count <= this.blocks) || !Number.isInteger(first) || !Number.isInteger(count)) {
      throw new RangeError(`blocks [${first}, ${first + count}) outside the bitmap (0..${this.blocks})`);
    }
  }

  private checkLayout(layout: MdLayout): void {
    if (layout.blocks !== this.blocks) throw new RangeError(`bitmap of ${this.blocks} blocks does not match the layout (${layout.blocks} blocks)`);
  }
}

function wordsOf(bytes: Uint8Array, nwords: number): Uint32Array {
  if (bytes.length > nwords * 4) throw new RangeError(`bitmap bytes too long: ${bytes.length} > ${nwords * 4}`);
  const padded = new Uint8Array(nwords * 4);
  padded.set(bytes);
  const buf = Buffer.from(padded.buffer);
  if (!LITTLE_ENDIAN) buf.swap32();
  return new Uint32Array(padded.buffer);
}

/** The persisted bitmap (clean: nothing dirty). */
export async function readBitmap(disk: BackingDisk, layout: MdLayout): Promise<Bitmap> {
  const buf = Buffer.alloc(layout.bitmapBytes);
  await disk.read(buf, layout.bitmapOffset);
  return Bitmap.fromBytes(buf, layout.blocks);
}
