// One volume's backing disk as the runtime uses it: data writes behind the activity log,
// the superblock, the bitmap, and crash recovery at attach. The machine decides; this does.
import { extentOf, touchRange, writeAlTransaction, type ActivityLog } from './activity-log.js';
import { openBackingDisk, type BackingDisk } from '../block/backing-disk.js';
import type { Bitmap } from './bitmap.js';
import { attachMetadata, detachMetadata } from './md-attach.js';
import { HoleMap, type MappedRun } from '../block/hole-map.js';
import { Zeroes, type VolumeMeta, type WriteData } from './machine-types.js';
import { computeLayout, type MdLayout } from './md-layout.js';
import { growMetadata } from './md-grow.js';
import { IdMap } from '../lib/id-map.js';
import { Serializer } from '../lib/serializer.js';
import { AgentError } from '../protocol/messages.js';
import { MetadataError, getPersistentReservation, readMetadata, setBitmapUuid, setPersistentReservation, writeSuperblock, type Metadata } from './metadata.js';

export class VolumeStore {
  private al: ActivityLog;
  /** Extents with data writes in flight: never evicted from the AL while busy. */
  private busy = new IdMap<number>();
  private waiters: Array<() => void> = [];
  /** What was discarded since attach; everything else counts as mapped. */
  private holes = new HoleMap();
  alWrites = 0;
  bmWrites = 0;
  private pendingNow = 0;
  private drainWaiters: Array<() => void> = [];

  private constructor(
    private diskNow: BackingDisk,
    private layoutNow: MdLayout,
    private md: Metadata,
    private bitmapNow: Bitmap,
    al: ActivityLog,
    readonly peerNodeId: number,
    /** The metadata as found (before this attach rewrote its flags). */
    readonly found: { crashedPrimary: boolean; appliedExtents: number },
  ) {
    this.al = al;
  }

  /** Opens the disk, reads metadata and bitmap, and replays the activity log after a crash. */
  static async attach(path: string, nodeId: number, peerNodeId: number): Promise<VolumeStore> {
    const disk = await openBackingDisk(path).catch((e: Error) => {
      throw new AgentError('io', `cannot open backing disk: ${e.message}`);
    });
    try {
      const found = await readMetadata(disk);
      if (found && found.nodeId !== nodeId)
        throw new AgentError('io', `metadata on ${path} belongs to node-id ${found.nodeId}, but this node is node-id ${nodeId}: check hosts in the resource file, or run create-md`);
      const m = await attachMetadata(disk);
      return new VolumeStore(disk, m.layout, m.md, m.bitmap, m.al, peerNodeId, { crashedPrimary: m.md.flags.crashedPrimary, appliedExtents: m.applied.length });
    } catch (e) {
      await disk.close();
      if (e instanceof MetadataError) throw new AgentError('io', e.message);
      throw e;
    }
  }

  get dataBytes(): number {
    return this.layout.dataBytes;
  }

  /** The backing disk and its layout in use; new ones after grow(). */
  get disk(): BackingDisk {
    return this.diskNow;
  }

  get layout(): MdLayout {
    return this.layoutNow;
  }

  /** The bitmap in use; a new one after grow(). */
  get bitmap(): Bitmap {
    return this.bitmapNow;
  }

  /** What the backing disk leaves for data now (it may have grown since attach). */
  async possibleDataBytes(): Promise<number> {
    const d = await openBackingDisk(this.disk.path);
    try {
      return computeLayout(d.size).dataBytes;
    } finally {
      await d.close();
    }
  }

  /**
   * resize: moves the metadata to the end of the grown backing disk (md-grow.ts). The caller
   * holds new I/O; in-flight writes land first, and the volume is detached cleanly before the
   * move, then attached again at the new size. On failure it stays attached at the old size.
   */
  async grow(v: VolumeMeta, dataBytes: number): Promise<void> {
    await this.drained();
    await this.persist(v);
    this.md = await detachMetadata(this.disk, { layout: this.layout, md: this.md, bitmap: this.bitmapNow, al: this.al });
    const fresh = await openBackingDisk(this.disk.path);
    try {
      const next = computeLayout(fresh.size);
      if (next.dataBytes !== dataBytes) throw new Error(`${fresh.path} leaves ${next.dataBytes} bytes for data now, not the ${dataBytes} agreed`);
      await growMetadata(fresh, this.layout, this.md, this.bitmapNow);
      const m = await attachMetadata(fresh);
      await this.diskNow.close();
      this.diskNow = fresh;
      this.layoutNow = m.layout;
      this.md = m.md;
      this.bitmapNow = m.bitmap;
      this.al = m.al;
    } catch (e) {
      await fresh.close();
      const m = await attachMetadata(this.disk);
      this.md = m.md;
      this.bitmapNow = m.bitmap;
      this.al = m.al;
      throw e;
    }
  }

  /** The machine's view of the superblock. */
  meta(): VolumeMeta {
    const md = this.md;
    return {
      gi: { current: md.current, bitmap: md.bitmapUuids[this.peerNodeId] ?? 0n, history: [...md.history] },
      disk: md.diskState,
      primary: md.flags.primary,
      crashedPrimary: this.found.crashedPrimary,
      peerOutdated: md.flags.peerOutdated,
      pr: getPersistentReservation(md),
    };
  }

  /** Persists the machine's view: dirty bitmap pages first, then the superblock. */
  persist(v: VolumeMeta): Promise<void> {
    // [lab fix, case 13] One at a time, in the order asked: two persists in flight could finish
    // their awaits out of order and leave an older superblock on disk last (the SyncTarget's
    // periodic bitmap write-out made overlapping persists common, e.g. with sync-finished).
    return this.persists.run(() => this.persistNow(v));
  }

  private readonly persists = new Serializer();

  private async persistNow(v: VolumeMeta): Promise<void> {
    let md = setBitmapUuid({ ...this.md, current: v.gi.current, history: v.gi.history.slice(0, 32), diskState: v.disk }, this.peerNodeId, v.gi.bitmap);
    md = { ...md, flags: { ...md.flags, primary: v.primary, crashedPrimary: v.crashedPrimary, peerOutdated: v.peerOutdated, consistent: v.disk !== 'Inconsistent', wasUpToDate: v.disk === 'UpToDate' } };
    md = setPersistentReservation(md, v.pr);
    // [lab fix, case 13] Data first: bits cleared by completed resync writes (not yet synced)
    // must not reach the disk before the data they vouch for, or a power loss leaves a clear
    // bit over old data. (Lazy write-out during a resync made this path frequent.)
    await this.disk.sync();
    this.bmWrites += await this.bitmap.flushDirty(this.disk, this.layout);
    this.md = await writeSuperblock(this.disk, md);
  }

  /**
   * Marks the write's extents busy and returns once a durable transaction records them hot
   * (rule 1). A hit on an extent whose transaction is still being written waits for it: the
   * newest transaction holds the whole hot set. On failure the busy marks are undone.
   */
  private async enterAl(offset: number, length: number): Promise<void> {
    if (this.enterHot(offset, length)) return;
    // A write inside one hot extent whose transaction is still being written allocates nothing.
    const e = extentOf(offset);
    if (!(e === extentOf(offset + length - 1) && this.al.hotSet.has(e))) {
      for (;;) {
        const r = touchRange(this.al, offset, length, this.busy);
        if (!r.blocked) {
          if (r.needsTransaction) {
            this.al = r.al;
            this.alWrites++;
            const t = writeAlTransaction(this.disk, this.layout, r.al, this.bitmap);
            this.alPending = t;
            const settled = (): void => {
              if (this.alPending === t) this.alPending = undefined;
            };
            t.then(settled, settled);
          }
          break;
        }
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    }
    for (let x = e; x <= extentOf(offset + length - 1); x++) this.busy.set(x, (this.busy.get(x) ?? 0) + 1);
    if (!this.alPending) return;
    try {
      await this.alPending;
    } catch (err) {
      this.leaveAl(offset, length);
      throw err;
    }
  }

  /**
   * The common case, decided without waiting: a write inside one hot extent while no AL
   * transaction is being written. Marks the extent busy and returns true; the write may go.
   */
  private enterHot(offset: number, length: number): boolean {
    const e = extentOf(offset);
    if (this.alPending || e !== extentOf(offset + length - 1) || !this.al.hotSet.has(e)) return false;
    this.busy.set(e, (this.busy.get(e) ?? 0) + 1);
    return true;
  }

  /** The newest AL transaction while it is not yet durable. */
  private alPending?: Promise<void>;

  private leaveAl(offset: number, length: number): void {
    for (let e = extentOf(offset); e <= extentOf(offset + length - 1); e++) {
      const n = (this.busy.get(e) ?? 1) - 1;
      if (n === 0) this.busy.delete(e);
      else this.busy.set(e, n);
    }
    if (this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Writes on their way to the disk (DRBD's lower-pending). */
  get lowerPending(): number {
    return this.pendingNow;
  }

  /** Resolves once no write is on its way to the disk: at once when none is. */
  drained(): Promise<void> {
    return this.pendingNow === 0 ? Promise.resolve() : new Promise((r) => this.drainWaiters.push(r));
  }

  private leaveLower(): void {
    this.pendingNow--;
    if (this.pendingNow > 0 || this.drainWaiters.length === 0) return;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    w.forEach((f) => f());
  }

  /** Application or replicated write (or discard): the AL covers it before it reaches the disk. */
  write(offset: number, data: WriteData, fua: boolean, viaAl = true): Promise<void> {
    // Most writes: inside one hot extent, no AL transaction being written, no FUA. No async
    // frames then, one promise from the disk queue.
    if (viaAl && !fua && !(data instanceof Zeroes) && this.enterHot(offset, data.length)) {
      this.pendingNow++;
      this.holes.written(offset, data.length);
      const done = (): void => {
        this.leaveAl(offset, data.length);
        this.leaveLower();
      };
      return this.disk.write(data, offset).then(done, (err: unknown) => {
        done();
        throw err;
      });
    }
    return this.writeSlow(offset, data, fua, viaAl);
  }

  private async writeSlow(offset: number, data: WriteData, fua: boolean, viaAl: boolean): Promise<void> {
    this.pendingNow++;
    try {
      if (viaAl) await this.enterAl(offset, data.length);
      try {
        if (data instanceof Zeroes) {
          await this.disk.discard(offset, data.length);
          this.holes.discarded(offset, data.length);
        } else {
          // Mapped before the write: one that lands in part and then fails is not zeros either.
          this.holes.written(offset, data.length);
          await this.disk.write(data, offset);
        }
        if (fua) await this.disk.sync();
      } finally {
        if (viaAl) this.leaveAl(offset, data.length);
      }
    } finally {
      this.leaveLower();
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    await this.disk.read(buf, offset);
    return buf;
  }

  flush(): Promise<void> {
    return this.disk.sync();
  }

  /** Allocation as far as this node's discards since attach tell (GET LBA STATUS). */
  mapped(offset: number, length: number): MappedRun[] {
    return this.holes.runs(offset, length);
  }

  /** Clean shutdown: bitmap to disk, empty AL, superblock says so. */
  async close(v: VolumeMeta): Promise<void> {
    await this.persist({ ...v, primary: false });
    this.md = await detachMetadata(this.disk, { layout: this.layout, md: this.md, bitmap: this.bitmapNow, al: this.al });
    await this.disk.close();
  }

  /** After a crash the process is gone anyway; this only releases the file for tests. */
  async abandon(): Promise<void> {
    await this.disk.close();
  }
}
