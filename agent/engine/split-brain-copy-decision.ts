// What a split-brain victim keeps of its own data before the resync overwrites it, decided
// purely (split-brain-copy.ts does the file I/O): the ranges out of sync in its bitmap, the
// manifest describing the kept file, whether the copy may be made at all (size cap, free
// space), and the sentences operators read about it.
import { formatSize } from './metadata.js';
import { BLOCK, type OutOfSyncMap } from './machine-types.js';

export interface ByteRange {
  offset: number;
  length: number;
}

/** The copy's size limit unless the runtime is told otherwise: larger divergence needs --no-backup. */
export const DEFAULT_COPY_CAP = 1024 ** 3;
/** Free space the copy leaves on the state dir's file system, for the agent's other files. */
export const COPY_FREE_MARGIN = 64 * 1024 ** 2;
/** The operator's override, as the refusals name it. */
export const NO_BACKUP_FIX = 'connect --discard-my-data --no-backup';

/** The set bits of a bitmap as byte ranges (adjacent blocks merged), clipped to the data area. */
export function outOfSyncRanges(map: Pick<OutOfSyncMap, 'blocks' | 'nextSet' | 'test'>, dataBytes: number): ByteRange[] {
  const out: ByteRange[] = [];
  for (let b = map.nextSet(0); b >= 0 && b < map.blocks; ) {
    let end = b + 1;
    while (end < map.blocks && map.test(end)) end++;
    const offset = b * BLOCK;
    const length = Math.min(end * BLOCK, dataBytes) - offset;
    if (length > 0) out.push({ offset, length });
    b = end < map.blocks ? map.nextSet(end) : -1;
  }
  return out;
}

export function rangesBytes(ranges: readonly ByteRange[]): number {
  return ranges.reduce((n, r) => n + r.length, 0);
}

/** One range of the victim's disk and where its bytes sit in the .blocks file. */
export interface CopyRange extends ByteRange {
  fileOffset: number;
  /**
   * Who wrote the range since the split: 'here' (the victim's own changes, out of sync in its
   * bitmap). The peer's ranges are only known after the handshake, once data may move; the
   * manifest counts them (peerChangedBlocks) instead.
   */
  changedBy: 'here';
}

/** The `.json` beside a `.blocks` file. */
export interface SplitBrainCopyManifest {
  resource: string;
  /** The volume number of the resource file. */
  volume: number;
  node: string;
  /** ISO 8601 UTC. */
  created: string;
  /** This node's current UUID before the discard (16 hex digits). */
  generation: string;
  peer: string;
  ranges: CopyRange[];
  /** Blocks the peer changed since the split (they are overwritten here too; their old content is the pre-split data). */
  peerChangedBlocks: number;
  /** 'full': the resync will rewrite the whole disk (split brain by shared history): more than these ranges change. */
  resync: 'bitmap' | 'full';
  bytes: number;
  /** sha256 (hex) of the .blocks file. */
  sha256: string;
}

export function copyRanges(ranges: readonly ByteRange[]): CopyRange[] {
  let at = 0;
  return ranges.map((r) => {
    const c: CopyRange = { offset: r.offset, length: r.length, fileOffset: at, changedBy: 'here' };
    at += r.length;
    return c;
  });
}

/** `20261207T122758.123Z-vol0`: sorts by time, safe in file names (no colons). */
export function copyStem(created: Date, volume: number): string {
  return `${created.toISOString().replace(/[-:]/g, '')}-vol${volume}`;
}

export type CopyDecision = { kind: 'save' } | { kind: 'refuse'; why: string };

/**
 * Whether the copy may be made: within the cap, and leaving COPY_FREE_MARGIN free. A refusal
 * names the place, the space needed and the override, so that nothing is lost unasked.
 */
export function decideCopy(o: { node: string; bytes: number; ranges: number; dir: string; capBytes: number; freeBytes: number }): CopyDecision {
  const what = `${o.node}'s ${formatSize(o.bytes)} of diverging blocks (${o.ranges} ranges)`;
  if (o.bytes > o.capBytes) return { kind: 'refuse', why: `Refusing to discard my data: ${what} exceed the split-brain copy limit of ${formatSize(o.capBytes)}; ${NO_BACKUP_FIX} discards them without a copy` };
  if (o.bytes + COPY_FREE_MARGIN > o.freeBytes)
    return {
      kind: 'refuse',
      why: `Refusing to discard my data: no room in ${o.dir} for a copy of ${what}: ${formatSize(o.bytes + COPY_FREE_MARGIN)} needed (with a ${formatSize(COPY_FREE_MARGIN)} margin), ${formatSize(o.freeBytes)} free; free space there, or ${NO_BACKUP_FIX} discards them without a copy`,
    };
  return { kind: 'save' };
}

/** A failed save, as the refusal says it. */
export function copyFailed(o: { node: string; path: string; bytes: number; error: string }): string {
  return `Refusing to discard my data: cannot keep a copy of ${o.node}'s ${formatSize(o.bytes)} of diverging blocks in ${o.path} (${o.error}); ${formatSize(o.bytes)} needed there; ${NO_BACKUP_FIX} discards them without a copy`;
}

/** What the connect answer says once the copies are on disk. */
export function keptText(node: string, kept: ReadonlyArray<{ bytes: number; ranges: number; path: string }>): string {
  if (kept.length === 0) return `${node} had no diverging blocks of its own to keep`;
  const bytes = kept.reduce((n, k) => n + k.bytes, 0);
  const ranges = kept.reduce((n, k) => n + k.ranges, 0);
  return `kept a copy of ${node}'s ${formatSize(bytes)} of diverging blocks (${ranges} ranges) in ${kept.map((k) => k.path).join(', ')}`;
}

/**
 * Whether a kept copy may be written back, and what it would overwrite. Through the replicated
 * device only, so the peer gets the blocks too: Primary with UpToDate data, as DRBD requires
 * for any write.
 */
export function restoreRefusal(o: { role: string; disk: string; dataBytes: number; manifest: Pick<SplitBrainCopyManifest, 'ranges' | 'volume'> }): string | undefined {
  if (o.role !== 'Primary') return `split-brain-restore writes through the replicated device: this node is ${o.role}; promote it first (primary)`;
  if (o.disk !== 'UpToDate') return `Need access to UpToDate data (volume ${o.manifest.volume} is ${o.disk})`;
  const past = o.manifest.ranges.find((r) => r.offset + r.length > o.dataBytes);
  if (past) return `the copy's range at ${past.offset} (+${past.length}) lies beyond the end of volume ${o.manifest.volume} (${o.dataBytes} bytes)`;
  return undefined;
}

/** The ranges a restore would overwrite, one line each, for the answer without --yes. */
export function restorePlanLines(m: Pick<SplitBrainCopyManifest, 'resource' | 'volume' | 'ranges' | 'bytes'>): string[] {
  return [
    `${m.resource}/${m.volume}: would overwrite ${formatSize(m.bytes)} in ${m.ranges.length} ranges:`,
    ...m.ranges.map((r) => `  offset ${r.offset} length ${r.length} (${formatSize(r.length)})`),
  ];
}
