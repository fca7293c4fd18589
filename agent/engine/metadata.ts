// The superblock of a volume's internal metadata: generation identifiers, flags and a few
// persistent fields, kept crash-safe in two alternating 4 KiB slots at the end of the disk
// (md-layout.ts). Each write carries a sequence number and a CRC32C and goes to the slot
// that does NOT hold the newest valid copy, then fdatasync: a torn write damages only the
// slot being written, and the reader takes the valid slot with the highest sequence.
//
// Metadata values are immutable: change them with spreads or the helpers here, then persist
// with writeSuperblock. UUIDs are bigint (uuid.ts).
import { zeroRange, type BackingDisk } from '../block/backing-disk.js';
import type { GenerationIds } from '../protocol/messages.js';
import type { DiskState } from '../drbd-states.js';
import { crc32c } from '../lib/crc32c.js';
import { Serializer } from '../lib/serializer.js';
import { readBitmap } from './bitmap.js';
import { forgetActivityLogState } from './activity-log.js';
import { BLOCK_BYTES, SUPERBLOCK_BYTES, computeLayout, type MdLayout } from './md-layout.js';
import { UUID_JUST_CREATED, UUID_NONE, formatUuid, uuidEq } from './uuid.js';

export { computeLayout, type MdLayout } from './md-layout.js';

/** Node-ids 0..31 (DRBD's limit): one bitmap UUID slot each in the superblock. */
export const MAX_NODES = 32;
export const HISTORY_SIZE = 32;
export const FORMAT_VERSION = 1;
/** Tag of the iSCSI persistent-reservation blob in the extras area. */
export const EXTRA_PERSISTENT_RESERVATION = 1;
export const PERSISTENT_RESERVATION_MAX = 1024;

/** The disk states that survive a restart; everything else is a runtime state. */
export type MdDiskState = Extract<DiskState, 'Inconsistent' | 'Outdated' | 'Consistent' | 'UpToDate'>;

export interface MdFlags {
  consistent: boolean;
  wasUpToDate: boolean;
  /** Set while Primary; found set at attach, it means we crashed as Primary. */
  primary: boolean;
  crashedPrimary: boolean;
  /** Clean shutdown recorded. Informational: recovery always replays the AL ring (activity-log.ts). */
  alClean: boolean;
  /** The peer was outdated (graceful disconnect of a Secondary); promoting it needs --force. */
  peerOutdated: boolean;
}

export interface Metadata {
  /** Sequence number of the superblock write this value came from (0: never written). */
  readonly seq: number;
  readonly nodeId: number;
  /** Exposed size the metadata was created for. */
  readonly dataBytes: number;
  readonly current: bigint;
  /** Indexed by peer node-id; 0 while in sync with that peer. Always MAX_NODES entries. */
  readonly bitmapUuids: readonly bigint[];
  /** Newest first, at most HISTORY_SIZE. */
  readonly history: readonly bigint[];
  readonly flags: Readonly<MdFlags>;
  readonly diskState: MdDiskState;
  /** Small binary fields by tag (1..65535), e.g. EXTRA_PERSISTENT_RESERVATION. */
  readonly extras: ReadonlyMap<number, Buffer>;
}

export class MetadataError extends Error {
  constructor(
    message: string,
    readonly code: 'exists' | 'missing' | 'unsupported-version' | 'size-mismatch' | 'bad-argument',
  ) {
    super(message);
    this.name = 'MetadataError';
  }
}

// ---- superblock format (all integers little-endian) ----
const MAGIC = Buffer.from('DTUI-MD\0', 'latin1');
const OFF = {
  magic: 0,
  version: 8,
  slotBytes: 12,
  seq: 16,
  nodeId: 24,
  flags: 28,
  dataBytes: 32,
  blockBytes: 40,
  diskState: 44,
  historyCount: 45,
  extrasBytes: 46,
  current: 48,
  bitmapUuids: 56,
  history: 56 + 8 * MAX_NODES,
  extras: 56 + 8 * MAX_NODES + 8 * HISTORY_SIZE,
  crc: SUPERBLOCK_BYTES - 4,
} as const;
const EXTRAS_CAPACITY = OFF.crc - OFF.extras;

const FLAG_BITS: Record<keyof MdFlags, number> = {
  consistent: 1 << 0,
  wasUpToDate: 1 << 1,
  primary: 1 << 2,
  crashedPrimary: 1 << 3,
  alClean: 1 << 4,
  peerOutdated: 1 << 5,
};
const DISK_CODES: Record<MdDiskState, number> = { Inconsistent: 1, Outdated: 2, Consistent: 3, UpToDate: 4 };
const DISK_BY_CODE = new Map(Object.entries(DISK_CODES).map(([k, v]) => [v, k as MdDiskState]));

function encodeFlags(f: Readonly<MdFlags>): number {
  let bits = 0;
  for (const k of Object.keys(FLAG_BITS) as Array<keyof MdFlags>) if (f[k]) bits |= FLAG_BITS[k];
  return bits;
}

function decodeFlags(bits: number): MdFlags {
  const f = {} as MdFlags;
  for (const k of Object.keys(FLAG_BITS) as Array<keyof MdFlags>) f[k] = (bits & FLAG_BITS[k]) !== 0;
  return f;
}

function extrasBytes(extras: ReadonlyMap<number, Buffer>): number {
  let n = 0;
  for (const v of extras.values()) n += 4 + v.length;
  return n;
}

/** The 4 KiB slot image of `md` with sequence `seq`. */
export function encodeSuperblock(md: Metadata, seq: number): Buffer {
  if (!Number.isInteger(md.nodeId) || md.nodeId < 0 || md.nodeId >= MAX_NODES) throw new MetadataError(`node-id ${md.nodeId} out of range 0..${MAX_NODES - 1}`, 'bad-argument');
  if (md.bitmapUuids.length > MAX_NODES) throw new MetadataError(`more than ${MAX_NODES} bitmap UUIDs`, 'bad-argument');
  if (extrasBytes(md.extras) > EXTRAS_CAPACITY) throw new MetadataError(`extras exceed ${EXTRAS_CAPACITY} bytes`, 'bad-argument');
  const b = Buffer.alloc(SUPERBLOCK_BYTES);
  MAGIC.copy(b, OFF.magic);
  b.writeUInt32LE(FORMAT_VERSION, OFF.version);
  b.writeUInt32LE(SUPERBLOCK_BYTES, OFF.slotBytes);
  b.writeBigUInt64LE(BigInt(seq), OFF.seq);
  b.writeUInt32LE(md.nodeId, OFF.nodeId);
  b.writeUInt32LE(encodeFlags(md.flags), OFF.flags);
  b.writeBigUInt64LE(BigInt(md.dataBytes), OFF.dataBytes);
  b.writeUInt32LE(BLOCK_BYTES, OFF.blockBytes);
  b.writeUInt8(DISK_CODES[md.diskState], OFF.diskState);
  const history = md.history.slice(0, HISTORY_SIZE);
  b.writeUInt8(history.length, OFF.historyCount);
  b.writeUInt16LE(extrasBytes(md.extras), OFF.extrasBytes);
  b.writeBigUInt64LE(BigInt.asUintN(64, md.current), OFF.current);
  md.bitmapUuids.forEach((u, i) => b.writeBigUInt64LE(BigInt.asUintN(64, u), OFF.bitmapUuids + 8 * i));
  history.forEach((u, i) => b.writeBigUInt64LE(BigInt.asUintN(64, u), OFF.history + 8 * i));
  let p: number = OFF.extras;
  for (const [tag, v] of [...md.extras].sort((x, y) => x[0] - y[0])) {
    b.writeUInt16LE(tag, p);
    b.writeUInt16LE(v.length, p + 2);
    v.copy(b, p + 4);
    p += 4 + v.length;
  }
  b.writeUInt32LE(crc32c(b, 0, 0, OFF.crc), OFF.crc);
  return b;
}

export type SlotContent = { kind: 'valid'; md: Metadata } | { kind: 'invalid'; reason: string } | { kind: 'unsupported'; version: number };

/** Decodes one slot image; never throws on bad input (a torn slot is an ordinary event). */
export function decodeSuperblock(b: Buffer): SlotContent {
  if (b.length !== SUPERBLOCK_BYTES) return { kind: 'invalid', reason: `slot is ${b.length} bytes` };
  if (!b.subarray(0, MAGIC.length).equals(MAGIC)) return { kind: 'invalid', reason: 'no magic' };
  if (crc32c(b, 0, 0, OFF.crc) !== b.readUInt32LE(OFF.crc)) return { kind: 'invalid', reason: 'checksum mismatch' };
  const version = b.readUInt32LE(OFF.version);
  if (version !== FORMAT_VERSION) return { kind: 'unsupported', version };
  const nodeId = b.readUInt32LE(OFF.nodeId);
  const diskState = DISK_BY_CODE.get(b.readUInt8(OFF.diskState));
  const historyCount = b.readUInt8(OFF.historyCount);
  const xbytes = b.readUInt16LE(OFF.extrasBytes);
  if (nodeId >= MAX_NODES || !diskState || historyCount > HISTORY_SIZE || xbytes > EXTRAS_CAPACITY || b.readUInt32LE(OFF.blockBytes) !== BLOCK_BYTES) {
    return { kind: 'invalid', reason: 'field out of range' };
  }
  const extras = new Map<number, Buffer>();
  for (let p: number = OFF.extras; p < OFF.extras + xbytes; ) {
    const tag = b.readUInt16LE(p);
    const len = b.readUInt16LE(p + 2);
    if (tag === 0 || p + 4 + len > OFF.extras + xbytes) return { kind: 'invalid', reason: 'bad extras' };
    extras.set(tag, Buffer.from(b.subarray(p + 4, p + 4 + len)));
    p += 4 + len;
  }
  return {
    kind: 'valid',
    md: {
      seq: Number(b.readBigUInt64LE(OFF.seq)),
      nodeId,
      dataBytes: Number(b.readBigUInt64LE(OFF.dataBytes)),
      current: b.readBigUInt64LE(OFF.current),
      bitmapUuids: Array.from({ length: MAX_NODES }, (_, i) => b.readBigUInt64LE(OFF.bitmapUuids + 8 * i)),
      history: Array.from({ length: historyCount }, (_, i) => b.readBigUInt64LE(OFF.history + 8 * i)),
      flags: decodeFlags(b.readUInt32LE(OFF.flags)),
      diskState,
      extras,
    },
  };
}

// ---- pure helpers ----

/** A just-created metadata area: C = 4, empty B and H, Inconsistent, AL clean. */
export function freshMetadata(nodeId: number, dataBytes: number): Metadata {
  return {
    seq: 0,
    nodeId,
    dataBytes,
    current: UUID_JUST_CREATED,
    bitmapUuids: new Array<bigint>(MAX_NODES).fill(UUID_NONE),
    history: [],
    flags: { consistent: false, wasUpToDate: false, primary: false, crashedPrimary: false, alClean: true, peerOutdated: false },
    diskState: 'Inconsistent',
    extras: new Map(),
  };
}

interface GiFields {
  readonly current: bigint;
  readonly bitmapUuids: readonly bigint[];
  readonly history: readonly bigint[];
}

/**
 * Pushes a UUID into the history (newest first, HISTORY_SIZE kept). Skipped, per the GI
 * rules: 0 and 4, a value equal to C or to any B, and one already in the history.
 */
export function pushHistory<T extends GiFields>(md: T, uuid: bigint): T {
  if (uuidEq(uuid, UUID_NONE) || uuidEq(uuid, UUID_JUST_CREATED) || uuidEq(uuid, md.current)) return md;
  if (md.bitmapUuids.some((b) => uuidEq(b, uuid)) || md.history.some((h) => uuidEq(h, uuid))) return md;
  return { ...md, history: [uuid, ...md.history].slice(0, HISTORY_SIZE) };
}

export function bitmapUuid(md: Metadata, peerNodeId: number): bigint {
  return md.bitmapUuids[peerNodeId] ?? UUID_NONE;
}

export function setBitmapUuid(md: Metadata, peerNodeId: number, uuid: bigint): Metadata {
  if (!Number.isInteger(peerNodeId) || peerNodeId < 0 || peerNodeId >= MAX_NODES) throw new MetadataError(`peer node-id ${peerNodeId} out of range`, 'bad-argument');
  const bitmapUuids = [...md.bitmapUuids];
  bitmapUuids[peerNodeId] = uuid;
  return { ...md, bitmapUuids };
}

export function withFlags(md: Metadata, patch: Partial<MdFlags>): Metadata {
  return { ...md, flags: { ...md.flags, ...patch } };
}

export function getExtra(md: Metadata, tag: number): Buffer | undefined {
  return md.extras.get(tag);
}

/** Sets (or with undefined removes) an extras field; throws when the area would overflow. */
export function setExtra(md: Metadata, tag: number, value: Buffer | undefined): Metadata {
  if (!Number.isInteger(tag) || tag < 1 || tag > 0xffff) throw new MetadataError(`extras tag ${tag} out of range 1..65535`, 'bad-argument');
  const extras = new Map(md.extras);
  if (value === undefined) extras.delete(tag);
  else extras.set(tag, Buffer.from(value));
  if (extrasBytes(extras) > EXTRAS_CAPACITY) throw new MetadataError(`superblock extras full: ${extrasBytes(extras)} > ${EXTRAS_CAPACITY} bytes`, 'bad-argument');
  return { ...md, extras };
}

export function getPersistentReservation(md: Metadata): Buffer | undefined {
  return getExtra(md, EXTRA_PERSISTENT_RESERVATION);
}

export function setPersistentReservation(md: Metadata, blob: Buffer | undefined): Metadata {
  if (blob && blob.length > PERSISTENT_RESERVATION_MAX) throw new MetadataError(`persistent reservation blob of ${blob.length} bytes exceeds ${PERSISTENT_RESERVATION_MAX}`, 'bad-argument');
  return setExtra(md, EXTRA_PERSISTENT_RESERVATION, blob);
}

/** The protocol's view (drbdsetup show-gi style), with bitmap UUIDs for the given peers. */
export function toGenerationIds(md: Metadata, peerNodeIds: readonly number[]): GenerationIds {
  const bitmap: Record<string, string> = {};
  for (const id of peerNodeIds) bitmap[String(id)] = formatUuid(bitmapUuid(md, id));
  return { current: formatUuid(md.current), bitmap, history: md.history.map(formatUuid) };
}

export function formatSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : Number(v.toFixed(1))} ${units[u]}`;
}

// ---- I/O ----

interface DiskMdState {
  /** Highest superblock sequence seen or written on this disk. */
  seq: number;
  /** Whether both slots have been read (or written) through this handle. */
  known: boolean;
  /** Superblock writes are serialized per disk: two in flight could tear both slots. */
  writes: Serializer;
}
const diskState = new WeakMap<BackingDisk, DiskMdState>();

function stateOf(disk: BackingDisk): DiskMdState {
  let s = diskState.get(disk);
  if (!s) {
    s = { seq: 0, known: false, writes: new Serializer() };
    diskState.set(disk, s);
  }
  return s;
}

export interface SuperblockProbe {
  slots: [SlotContent, SlotContent];
  /** The valid slot with the highest sequence. */
  best?: { slot: 0 | 1; md: Metadata };
  /** A slot in a format newer than this build understands. */
  unsupported?: number;
}

/** Reads both slots without judging the data size (create-md and diagnostics use this). */
export async function probeSuperblocks(disk: BackingDisk, layout: MdLayout = computeLayout(disk.size)): Promise<SuperblockProbe> {
  const slots = (await Promise.all(
    layout.superblockOffsets.map(async (off) => {
      const buf = Buffer.alloc(SUPERBLOCK_BYTES);
      await disk.read(buf, off);
      return decodeSuperblock(buf);
    }),
  )) as [SlotContent, SlotContent];
  const probe: SuperblockProbe = { slots };
  slots.forEach((s, i) => {
    if (s.kind === 'valid' && (!probe.best || s.md.seq > probe.best.md.seq)) probe.best = { slot: i as 0 | 1, md: s.md };
    if (s.kind === 'unsupported') probe.unsupported = Math.max(probe.unsupported ?? 0, s.version);
  });
  const st = stateOf(disk);
  for (const s of slots) if (s.kind === 'valid') st.seq = Math.max(st.seq, s.md.seq);
  st.known = true;
  return probe;
}

/**
 * The newest valid superblock, or null when neither slot holds one. Throws a MetadataError
 * for metadata this build must not use: a newer format, or one created for another size.
 */
export async function readMetadata(disk: BackingDisk): Promise<Metadata | null> {
  const layout = computeLayout(disk.size);
  const probe = await probeSuperblocks(disk, layout);
  if (probe.unsupported !== undefined) {
    throw new MetadataError(`metadata on ${disk.path} is format version ${probe.unsupported}, newer than this agent understands (${FORMAT_VERSION}); upgrade drbd-agent`, 'unsupported-version');
  }
  if (!probe.best) return null;
  const md = probe.best.md;
  if (md.dataBytes !== layout.dataBytes) {
    throw new MetadataError(
      `metadata on ${disk.path} was created for ${formatSize(md.dataBytes)} of data, but the disk now leaves ${formatSize(layout.dataBytes)} (was it resized?)`,
      'size-mismatch',
    );
  }
  return md;
}

/**
 * Persists `md` into the slot not holding the newest copy, with the next sequence number,
 * and fdatasyncs. Returns `md` with its new `seq`. Writes to one disk are serialized.
 */
export function writeSuperblock(disk: BackingDisk, md: Metadata): Promise<Metadata> {
  const layout = computeLayout(disk.size);
  const st = stateOf(disk);
  const run = async (): Promise<Metadata> => {
    // Never guess which slot is newest: a Metadata built by hand has seq 0.
    if (!st.known) await probeSuperblocks(disk, layout);
    const seq = Math.max(st.seq, md.seq) + 1;
    const buf = encodeSuperblock(md, seq);
    await disk.write(buf, layout.superblockOffsets[seq % 2] as number);
    await disk.sync();
    st.seq = Math.max(st.seq, seq);
    return { ...md, seq };
  };
  return st.writes.run(run);
}

/** What create-md would destroy, in words; undefined when there is nothing valid to lose. */
export async function describeExistingMetadata(disk: BackingDisk, layout: MdLayout = computeLayout(disk.size)): Promise<string | undefined> {
  const probe = await probeSuperblocks(disk, layout);
  if (probe.best) {
    const md = probe.best.md;
    const parts = [`node-id ${md.nodeId}`, md.diskState, `current UUID ${formatUuid(md.current)}`];
    if (md.dataBytes === layout.dataBytes) {
      const bm = await readBitmap(disk, layout);
      parts.push(`${formatSize(bm.weight * BLOCK_BYTES)} out of sync`);
    } else {
      parts.push(`created for ${formatSize(md.dataBytes)} of data`);
    }
    return `valid metadata found on ${disk.path} (${parts.join(', ')})`;
  }
  if (probe.unsupported !== undefined) return `metadata of a newer format (version ${probe.unsupported}) found on ${disk.path}`;
  return undefined;
}

/**
 * Writes a fresh metadata area (C = 4, empty B and H, bitmap clear, AL ring empty). Refuses
 * when valid metadata is present unless `force`, saying what would be destroyed. The data
 * area is never touched.
 */
export async function createMetadata(disk: BackingDisk, opts: { nodeId: number; force?: boolean }): Promise<Metadata> {
  const layout = computeLayout(disk.size);
  if (!Number.isInteger(opts.nodeId) || opts.nodeId < 0 || opts.nodeId >= MAX_NODES) {
    throw new MetadataError(`node-id ${opts.nodeId} out of range 0..${MAX_NODES - 1}`, 'bad-argument');
  }
  if (!opts.force) {
    const existing = await describeExistingMetadata(disk, layout);
    if (existing) throw new MetadataError(`${existing}; use create-md --force to destroy it`, 'exists');
  }
  const st = stateOf(disk);
  const run = async (): Promise<Metadata> => {
    // Invalidate both superblocks first: a create-md cut short leaves "no metadata", never
    // the old superblock over a half-cleared bitmap and AL.
    await zeroRange(disk, layout.superblockOffsets[0], 2 * SUPERBLOCK_BYTES);
    await disk.sync();
    await zeroRange(disk, layout.bitmapOffset, layout.bitmapBytes + layout.alSlots * layout.alSlotBytes);
    await disk.sync();
    forgetActivityLogState(disk);
    const md = { ...freshMetadata(opts.nodeId, layout.dataBytes), seq: 1 };
    await disk.write(encodeSuperblock(md, 1), layout.superblockOffsets[1]);
    await disk.sync();
    st.seq = 1;
    st.known = true;
    return md;
  };
  return st.writes.run(run);
}
