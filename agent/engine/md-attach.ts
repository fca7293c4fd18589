// Attach and detach of a volume's metadata: the disk-side steps in the order crash safety
// needs, so the engine gets one call each. What the flags then mean for roles and syncs is
// the state machine's business.
import type { BackingDisk } from '../block/backing-disk.js';
import { type ActivityLog, closeActivityLog, recoverActivityLog } from './activity-log.js';
import { type Bitmap, readBitmap } from './bitmap.js';
import { computeLayout, type MdLayout } from './md-layout.js';
import { type Metadata, MetadataError, readMetadata, withFlags, writeSuperblock } from './metadata.js';

export interface AttachedMetadata {
  layout: MdLayout;
  /** As persisted after attach: alClean false, primary false, crashedPrimary updated. */
  md: Metadata;
  /** The persisted bitmap with the activity log applied (and flushed). */
  bitmap: Bitmap;
  /** An empty activity log to run with. */
  al: ActivityLog;
  /** Extents that were hot at the last stop; empty after a clean one. */
  applied: number[];
  /** The last stop was not clean (no detach). */
  crashed: boolean;
}

/**
 * Reads the superblock and bitmap, replays the activity log into the bitmap, and records
 * that the volume is in use (alClean cleared) before any write can happen. A node whose
 * primary flag is still set after an unclean stop crashed as Primary (DRBD's rule): that is
 * kept in crashedPrimary until the state machine clears it.
 */
export async function attachMetadata(disk: BackingDisk, opts: { maxHot?: number } = {}): Promise<AttachedMetadata> {
  const layout = computeLayout(disk.size);
  const found = await readMetadata(disk);
  if (!found) throw new MetadataError(`no valid metadata on ${disk.path}; run create-md first`, 'missing');
  const bitmap = await readBitmap(disk, layout);
  const { al, applied } = await recoverActivityLog(disk, layout, bitmap, opts);
  const crashed = !found.flags.alClean;
  const md = await writeSuperblock(
    disk,
    withFlags(found, {
      alClean: false,
      primary: false,
      crashedPrimary: found.flags.crashedPrimary || (crashed && found.flags.primary),
    }),
  );
  return { layout, md, bitmap, al, applied, crashed };
}

/**
 * Clean stop, with no writes in flight: bitmap flushed, an empty AL transaction, then the
 * superblock with alClean set. Returns the metadata as persisted.
 */
export async function detachMetadata(disk: BackingDisk, state: { layout: MdLayout; md: Metadata; bitmap: Bitmap; al: ActivityLog }): Promise<Metadata> {
  await closeActivityLog(disk, state.layout, state.al, state.bitmap);
  return writeSuperblock(disk, withFlags(state.md, { alClean: true }));
}
