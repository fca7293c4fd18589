// The activity log (AL): the set of "hot" 4 MiB extents that may hold writes whose
// out-of-sync bits are not yet on disk (engine-semantics.md, "Bitmap and activity log").
//
// The rules the engine must follow, and how this API expresses them:
// 1. Before the first write into a cold extent, a transaction recording it as hot must be
//    durable: touch() says `needsTransaction`; await writeAlTransaction() for the returned
//    state before issuing the write.
// 2. An extent may leave the log only when (a) no write into it is in flight (pass the busy
//    extents to touch(): it never evicts them, and says `blocked` when all hot extents are
//    busy) and (b) the bitmap bits set in it are on disk: writeAlTransaction() takes the
//    bitmap and flushes its dirty pages before writing the transaction, so no transaction
//    that drops an extent can become durable before the bits it covered; and (c) the data
//    written into it is on stable storage (a write acknowledged by both nodes but still in
//    one node's page cache would otherwise vanish in a power loss with nothing recording
//    that the block may differ): such a transaction, or one that writes bitmap pages, runs
//    after an fdatasync. A transaction that only adds extents is one O_DSYNC write.
// 3. After a crash, every extent hot in the newest valid transaction joins the bitmap
//    (recoverActivityLog / applyAl). Recovery always replays the ring: a clean shutdown
//    (closeActivityLog) leaves an empty newest transaction, so the superblock's alClean flag
//    is a record, not a switch that could skip a needed replay.
//
// On disk: a ring of AL_SLOTS transactions of 8 KiB (md-layout.ts). Each transaction holds
// the whole hot set (up to AL_MAX_EXTENTS), a sequence number and a CRC32C; transaction
// `seq` goes to slot `seq % alSlots`, so a torn write only loses the newest transaction,
// whose write was never allowed to proceed. Replay = the valid transaction with the highest
// sequence.
//
// Eviction is in activation order (FIFO), not LRU: a hit then costs nothing (the same state
// comes back), and the price, an occasional re-activation of a constantly hot extent, is
// one extra transaction per maxHot activations.
import type { BackingDisk } from '../block/backing-disk.js';
import type { Bitmap } from './bitmap.js';
import { crc32c } from '../lib/crc32c.js';
import { Serializer } from '../lib/serializer.js';
import { BLOCK_BYTES, type MdLayout } from './md-layout.js';
import { anyOf } from './ranges.js';

export const EXTENT_BYTES = 4 << 20;
export const EXTENT_BLOCKS = EXTENT_BYTES / BLOCK_BYTES;
/** DRBD's default al-extents. */
export const AL_DEFAULT_EXTENTS = 1237;

const MAGIC = Buffer.from('DTUI-AL\0', 'latin1');
const VERSION = 1;
const HEADER_BYTES = 32;
const CRC_BYTES = 4;

/** The most extents one transaction (8 KiB slot) can hold. */
export function alCapacity(slotBytes: number): number {
  return Math.floor((slotBytes - HEADER_BYTES - CRC_BYTES) / 4);
}
export const AL_MAX_EXTENTS = alCapacity(8192);

export interface ActivityLog {
  readonly maxHot: number;
  /** Hot extents, oldest activation first: the eviction order. */
  readonly hot: readonly number[];
  readonly hotSet: ReadonlySet<number>;
  /** Sequence number of the transaction that records exactly this state. */
  readonly seq: number;
}

export function createActivityLog(opts: { maxHot?: number; seq?: number; hot?: readonly number[] } = {}): ActivityLog {
  const maxHot = opts.maxHot ?? AL_DEFAULT_EXTENTS;
  if (!Number.isInteger(maxHot) || maxHot < 1 || maxHot > AL_MAX_EXTENTS) throw new RangeError(`al-extents ${maxHot} out of range 1..${AL_MAX_EXTENTS}`);
  const hot = (opts.hot ?? []).slice(-maxHot);
  return { maxHot, hot, hotSet: new Set(hot), seq: opts.seq ?? 0 };
}

export function extentOf(offset: number): number {
  return Math.floor(offset / EXTENT_BYTES);
}

/** Extents touched by a byte range, ascending. */
export function extentsOfRange(offset: number, length: number): number[] {
  if (length <= 0) return [];
  const out: number[] = [];
  for (let e = extentOf(offset); e <= extentOf(offset + length - 1); e++) out.push(e);
  return out;
}

/** The blocks of an extent, clipped to a volume of `blocks` blocks. */
export function extentBlocks(extent: number, blocks: number): { first: number; count: number } {
  const first = Math.min(extent * EXTENT_BLOCKS, blocks);
  return { first, count: Math.min(EXTENT_BLOCKS, blocks - first) };
}

export interface TouchResult {
  al: ActivityLog;
  /** The new state must be persisted (writeAlTransaction) before the write proceeds. */
  needsTransaction: boolean;
  /** The extent that left the log to make room. */
  evicted?: number;
  /** Every hot extent is busy: wait for a write to complete and touch again. `al` is unchanged. */
  blocked: boolean;
}

/** Anything answering "does this extent have writes in flight?" (a Set or Map of extents). */
export interface BusyExtents {
  has(extent: number): boolean;
}
const NONE_BUSY: BusyExtents = { has: () => false };

/** Records a write into `extent`. A hit returns the very same state (cheap on every write). */
export function touch(al: ActivityLog, extent: number, busy: BusyExtents = NONE_BUSY): TouchResult {
  if (al.hotSet.has(extent)) return { al, needsTransaction: false, blocked: false };
  if (al.hot.length < al.maxHot) {
    const hot = [...al.hot, extent];
    return { al: { ...al, hot, hotSet: new Set(hot), seq: al.seq + 1 }, needsTransaction: true, blocked: false };
  }
  const victim = al.hot.findIndex((e) => !busy.has(e));
  if (victim < 0) return { al, needsTransaction: false, blocked: true };
  const evicted = al.hot[victim] as number;
  const hot = [...al.hot.slice(0, victim), ...al.hot.slice(victim + 1), extent];
  return { al: { ...al, hot, hotSet: new Set(hot), seq: al.seq + 1 }, needsTransaction: true, evicted, blocked: false };
}

export interface TouchRangeResult {
  al: ActivityLog;
  needsTransaction: boolean;
  evicted: number[];
  blocked: boolean;
}

/**
 * Records a write of [offset, offset+length): every extent it touches becomes hot, in one
 * transaction. Extents of this same write are never evicted for each other.
 */
export function touchRange(al: ActivityLog, offset: number, length: number, busy: BusyExtents = NONE_BUSY): TouchRangeResult {
  const extents = extentsOfRange(offset, length);
  if (extents.length > al.maxHot) throw new RangeError(`a write of ${length} bytes spans ${extents.length} extents, more than al-extents ${al.maxHot}`);
  const mine = new Set(extents);
  const busyOrMine: BusyExtents = { has: (e) => mine.has(e) || busy.has(e) };
  let cur = al;
  const evicted: number[] = [];
  let needsTransaction = false;
  for (const e of extents) {
    const r = touch(cur, e, busyOrMine);
    if (r.blocked) return { al, needsTransaction: false, evicted: [], blocked: true };
    if (r.evicted !== undefined) evicted.push(r.evicted);
    needsTransaction ||= r.needsTransaction;
    cur = r.al;
  }
  // One transaction for the whole write, not one per extent.
  if (needsTransaction) cur = { ...cur, seq: al.seq + 1 };
  return { al: cur, needsTransaction, evicted, blocked: false };
}

/** Marks every block of the given extents out of sync (apply-al); returns newly set blocks. */
export function applyAl(bitmap: Bitmap, hotExtents: Iterable<number>): number {
  let added = 0;
  for (const e of hotExtents) {
    const { first, count } = extentBlocks(e, bitmap.blocks);
    if (count > 0) added += bitmap.setBlocks(first, count);
  }
  return added;
}

// ---- on-disk transactions ----

export function encodeAlTransaction(al: ActivityLog, slotBytes: number): Buffer {
  if (al.hot.length > alCapacity(slotBytes)) throw new RangeError(`${al.hot.length} hot extents do not fit one transaction`);
  const b = Buffer.alloc(slotBytes);
  MAGIC.copy(b, 0);
  b.writeUInt32LE(VERSION, 8);
  b.writeUInt32LE(al.hot.length, 12);
  b.writeBigUInt64LE(BigInt(al.seq), 16);
  b.writeUInt32LE(al.maxHot, 24);
  al.hot.forEach((e, i) => b.writeUInt32LE(e, HEADER_BYTES + 4 * i));
  b.writeUInt32LE(crc32c(b, 0, 0, slotBytes - CRC_BYTES), slotBytes - CRC_BYTES);
  return b;
}

export type AlSlotContent = { valid: true; seq: number; maxHot: number; hot: number[] } | { valid: false };

export function decodeAlTransaction(b: Buffer): AlSlotContent {
  const n = b.length;
  if (n < HEADER_BYTES + CRC_BYTES || !b.subarray(0, MAGIC.length).equals(MAGIC)) return { valid: false };
  if (crc32c(b, 0, 0, n - CRC_BYTES) !== b.readUInt32LE(n - CRC_BYTES)) return { valid: false };
  const count = b.readUInt32LE(12);
  if (b.readUInt32LE(8) !== VERSION || count > alCapacity(n)) return { valid: false };
  const hot = Array.from({ length: count }, (_, i) => b.readUInt32LE(HEADER_BYTES + 4 * i));
  return { valid: true, seq: Number(b.readBigUInt64LE(16)), maxHot: b.readUInt32LE(24), hot };
}

export interface AlReplay {
  /** Hot extents of the newest valid transaction (oldest activation first). */
  hot: number[];
  /** Its sequence number; 0 when the ring holds no valid transaction. */
  seq: number;
  /** Slots that hold something but not a valid transaction (torn, or never written after create-md: 0). */
  invalidSlots: number;
}

interface AlDiskState {
  written: number;
  /** The hot set of transaction `written`; unknown until one is read or written. */
  writtenHot?: ReadonlySet<number>;
  writes: Serializer;
}
const alDisks = new WeakMap<BackingDisk, AlDiskState>();
function alStateOf(disk: BackingDisk): AlDiskState {
  let s = alDisks.get(disk);
  if (!s) {
    s = { written: 0, writes: new Serializer() };
    alDisks.set(disk, s);
  }
  return s;
}

/** create-md emptied the ring: sequence numbers start over. */
export function forgetActivityLogState(disk: BackingDisk): void {
  alDisks.delete(disk);
}

export async function readActivityLog(disk: BackingDisk, layout: MdLayout): Promise<AlReplay> {
  const ring = Buffer.alloc(layout.alSlots * layout.alSlotBytes);
  await disk.read(ring, layout.alOffset);
  const out: AlReplay = { hot: [], seq: 0, invalidSlots: 0 };
  for (let i = 0; i < layout.alSlots; i++) {
    const slot = ring.subarray(i * layout.alSlotBytes, (i + 1) * layout.alSlotBytes);
    const t = decodeAlTransaction(slot);
    if (!t.valid) {
      if (slot.some((x) => x !== 0)) out.invalidSlots++;
      continue;
    }
    if (t.seq > out.seq) {
      out.seq = t.seq;
      out.hot = t.hot;
    }
  }
  const st = alStateOf(disk);
  if (out.seq >= st.written) {
    st.written = out.seq;
    st.writtenHot = new Set(out.hot);
  }
  return out;
}

/**
 * Persists `al` (rule 1), flushing the bitmap's dirty pages first (rule 2b) and the data
 * first when it drops an extent (rule 2c). Transactions to one disk are serialized; a state
 * older than one already written is skipped (the newer transaction covers it, given rule 2a).
 */
export function writeAlTransaction(disk: BackingDisk, layout: MdLayout, al: ActivityLog, bitmap: Bitmap): Promise<void> {
  const st = alStateOf(disk);
  const run = async (): Promise<void> => {
    if (al.seq <= st.written) return;
    // Rule 2c: dropping an extent, or writing bitmap pages (a cleared bit vouches for data),
    // needs every completed data write on stable storage first. A transaction that only adds
    // extents needs nothing but itself durable (rule 1): the common case, kept off fdatasync.
    const drops = st.writtenHot === undefined || anyOf(st.writtenHot, (e) => !al.hotSet.has(e));
    if (drops || bitmap.hasDirtyPages) await disk.sync();
    await bitmap.flushDirty(disk, layout);
    await disk.write(encodeAlTransaction(al, layout.alSlotBytes), layout.alOffset + (al.seq % layout.alSlots) * layout.alSlotBytes, { durable: true });
    if (al.seq > st.written) {
      st.written = al.seq;
      st.writtenHot = al.hotSet;
    }
  };
  return st.writes.run(run);
}

/**
 * Attach-time recovery: every extent hot in the newest valid transaction joins `bitmap` (the
 * persisted bitmap, just read), the bitmap is flushed, and an empty transaction is written so
 * the same extents are not applied again. Returns the fresh, empty log to run with and the
 * extents that were applied (a crashed Primary resyncs them to its peer).
 */
export async function recoverActivityLog(
  disk: BackingDisk,
  layout: MdLayout,
  bitmap: Bitmap,
  opts: { maxHot?: number } = {},
): Promise<{ al: ActivityLog; applied: number[]; newlySet: number }> {
  const replay = await readActivityLog(disk, layout);
  const newlySet = applyAl(bitmap, replay.hot);
  const al = createActivityLog({ maxHot: opts.maxHot, seq: replay.seq + 1 });
  await writeAlTransaction(disk, layout, al, bitmap);
  return { al, applied: replay.hot, newlySet };
}

/**
 * Clean shutdown, with no writes in flight: the bitmap goes to disk and the newest
 * transaction becomes the empty set. Record alClean in the superblock afterwards.
 */
export async function closeActivityLog(disk: BackingDisk, layout: MdLayout, al: ActivityLog, bitmap: Bitmap): Promise<ActivityLog> {
  const empty = createActivityLog({ maxHot: al.maxHot, seq: Math.max(al.seq, alStateOf(disk).written) + 1 });
  await writeAlTransaction(disk, layout, empty, bitmap);
  return empty;
}
