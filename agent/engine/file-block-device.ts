// A plain, non-replicated BlockDevice over a backing disk: for tests, benchmarks and the
// iSCSI target before the replication engine hands it replicated devices.
//
// Allocation (for GET LBA STATUS) is tracked, not probed: Node cannot lseek(SEEK_HOLE),
// and a hole punched at 512-byte granularity may not free a filesystem block anyway. On
// open a file with no allocated blocks counts as wholly deallocated, any other as wholly
// mapped; from then on writes map and discards deallocate, in 512-byte units. Discards
// under 256 KiB are zero-filled rather than punched (see discard()).
import { stat } from 'node:fs/promises';
import { IoError, type BlockDevice } from './block-device.js';
import { openBackingDisk, type BackingDisk } from './backing-disk.js';

const SECTOR = 512;
const SMALL_DISCARD = 256 * 1024;

/** Sorted, disjoint, non-adjacent [start, end) sector ranges that are deallocated. */
export class HoleMap {
  private holes: Array<[number, number]> = [];

  constructor(initial?: [number, number]) {
    if (initial && initial[1] > initial[0]) this.holes.push(initial);
  }

  punch(start: number, end: number): void {
    this.carve(start, end);
    const i = this.holes.findIndex(([s]) => s > start);
    const at = i < 0 ? this.holes.length : i;
    this.holes.splice(at, 0, [start, end]);
    // Merge with neighbours that touch.
    const merged: Array<[number, number]> = [];
    for (const h of this.holes) {
      const last = merged[merged.length - 1];
      if (last && h[0] <= last[1]) last[1] = Math.max(last[1], h[1]);
      else merged.push([h[0], h[1]]);
    }
    this.holes = merged;
  }

  fill(start: number, end: number): void {
    this.carve(start, end);
  }

  private carve(start: number, end: number): void {
    const out: Array<[number, number]> = [];
    for (const [s, e] of this.holes) {
      if (e <= start || s >= end) out.push([s, e]);
      else {
        if (s < start) out.push([s, start]);
        if (e > end) out.push([end, e]);
      }
    }
    this.holes = out;
  }

  /** Runs of equal state covering [start, end). */
  runs(start: number, end: number): Array<{ start: number; end: number; mapped: boolean }> {
    const out: Array<{ start: number; end: number; mapped: boolean }> = [];
    let pos = start;
    for (const [s, e] of this.holes) {
      if (e <= pos) continue;
      if (s >= end) break;
      if (s > pos) out.push({ start: pos, end: s, mapped: true });
      const he = Math.min(e, end);
      out.push({ start: Math.max(s, pos), end: he, mapped: false });
      pos = he;
    }
    if (pos < end) out.push({ start: pos, end, mapped: true });
    return out;
  }
}

export class FileBlockDevice implements BlockDevice {
  readonly blockSize = SECTOR;
  private readonly holders = new Set<string>();

  private constructor(
    private readonly disk: BackingDisk,
    readonly size: number,
    private readonly holes: HoleMap,
  ) {}

  static async open(path: string, opts: { create?: number } = {}): Promise<FileBlockDevice> {
    const disk = await openBackingDisk(path, opts);
    const size = disk.size - (disk.size % SECTOR);
    const st = disk.isBlockDevice ? undefined : await stat(path);
    const sectors = size / SECTOR;
    const holes = new HoleMap(st && st.blocks === 0 ? [0, sectors] : undefined);
    return new FileBlockDevice(disk, size, holes);
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new IoError(`range [${offset}, +${length}) outside the ${this.size}-byte device`, 'out-of-range');
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.checkRange(offset, length);
    const buf = Buffer.allocUnsafe(length);
    await this.disk.read(buf, offset);
    return buf;
  }

  async write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void> {
    this.checkRange(offset, data.length);
    await this.disk.write(data, offset);
    this.holes.fill(Math.floor(offset / SECTOR), Math.ceil((offset + data.length) / SECTOR));
    if (opts?.fua) await this.disk.sync();
  }

  flush(): Promise<void> {
    return this.disk.sync();
  }

  async discard(offset: number, length: number): Promise<void> {
    this.checkRange(offset, length);
    if (length === 0) return;
    if (length < SMALL_DISCARD) {
      // Spawning fallocate(1) costs milliseconds; a small range is cheaper to zero-fill.
      // Reads return zeros either way, and the map below still reports it deallocated.
      await this.disk.write(Buffer.alloc(length), offset);
    } else await this.disk.punchHole(offset, length);
    this.holes.punch(Math.ceil(offset / SECTOR), Math.floor((offset + length) / SECTOR));
  }

  async mapped(offset: number, length: number): Promise<Array<{ offset: number; length: number; mapped: boolean }>> {
    this.checkRange(offset, length);
    const first = Math.floor(offset / SECTOR);
    const end = Math.ceil((offset + length) / SECTOR);
    return this.holes.runs(first, end).map((r) => ({ offset: r.start * SECTOR, length: (r.end - r.start) * SECTOR, mapped: r.mapped }));
  }

  open(holder: string): () => void {
    this.holders.add(holder);
    return () => {
      this.holders.delete(holder);
    };
  }

  get inUse(): boolean {
    return this.holders.size > 0;
  }

  async close(): Promise<void> {
    await this.disk.close();
  }
}
