// When a SyncTarget keeps an undo journal (undo-journal.ts), decided before the resync writes
// anything. Pure. The choice, in order:
// - the target had no consistent image (C = 4, or Inconsistent from an earlier interrupted
//   sync): nothing to go back to, so the resync proceeds DRBD-style without a journal;
// - the journal fits within the configured maximum: keep one (capacity: twice what the bitmap
//   needs, at least 64 MiB more for replicated writes during the sync, within the maximum);
// - otherwise the operator is told and the resync waits (PausedSyncT): `resume-sync` proceeds
//   without the journal (the target is then Inconsistent until the sync ends, as in DRBD);
//   disconnecting keeps the consistent image. We never trade a consistent image away silently.
import { BLOCK } from './machine-types.js';

const UNDO_HEADER = 64;
const UNDO_ENTRY_HEAD = 16;
const HEADROOM = 64 * 1024 * 1024;

/**
 * Default maximum journal size: enough for every block of the volume. A smaller default made
 * the resync after a crash (the hot extents join the bitmap) wait for an operator; with this
 * one only a file system short of space does, and the operator is told before any write.
 */
export function defaultUndoMax(dataBytes: number): number {
  return undoBytesFor(Math.ceil(dataBytes / BLOCK));
}

/** Journal bytes needed to save `blocks` blocks, one entry each (the worst case). */
export function undoBytesFor(blocks: number): number {
  return UNDO_HEADER + blocks * (BLOCK + UNDO_ENTRY_HEAD);
}

export type UndoDecision = { kind: 'journal'; capacity: number } | { kind: 'without'; why: string } | { kind: 'wait'; why: string };

export function decideUndo(o: { hadConsistentData: boolean; outOfSyncBlocks: number; maxBytes: number }): UndoDecision {
  if (!o.hadConsistentData) return { kind: 'without', why: 'the target has no consistent data to keep' };
  const need = undoBytesFor(o.outOfSyncBlocks);
  if (need > o.maxBytes)
    return { kind: 'wait', why: `the undo journal would need ${need} bytes for ${o.outOfSyncBlocks} out-of-sync blocks, more than its maximum of ${o.maxBytes}` };
  return { kind: 'journal', capacity: Math.min(o.maxBytes, Math.max(2 * need, need + HEADROOM)) };
}
