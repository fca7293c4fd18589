// Which 512-byte sectors of a disk are deallocated, for GET LBA STATUS. Tracked, not probed:
// Node cannot lseek(SEEK_HOLE), and a hole punched at 512-byte granularity may not free a
// filesystem block anyway. Writes map the sectors they touch; a discard deallocates only the
// sectors it covers whole. Reporting a sector mapped is always safe (reads of it are what
// they are); reporting it deallocated promises zeros, which every discard path delivers.

const SECTOR = 512;

export interface MappedRun {
  offset: number;
  length: number;
  mapped: boolean;
}

export class HoleMap {
  /** Sorted, disjoint, non-adjacent [start, end) sector ranges that are deallocated. */
  private holes: Array<[number, number]> = [];

  /** `deallocatedBytes`: the first that many bytes start deallocated (a new, empty file). */
  constructor(deallocatedBytes = 0) {
    const end = Math.floor(deallocatedBytes / SECTOR);
    if (end > 0) this.holes.push([0, end]);
  }

  written(offset: number, length: number): void {
    // The common case on the write path: nothing was ever discarded.
    if (this.holes.length === 0) return;
    this.carve(Math.floor(offset / SECTOR), Math.ceil((offset + length) / SECTOR));
  }

  discarded(offset: number, length: number): void {
    const start = Math.ceil(offset / SECTOR);
    const end = Math.floor((offset + length) / SECTOR);
    if (end <= start) return;
    this.carve(start, end);
    const i = this.holes.findIndex(([s]) => s > start);
    this.holes.splice(i < 0 ? this.holes.length : i, 0, [start, end]);
    // Merge with neighbours that touch.
    const merged: Array<[number, number]> = [];
    for (const h of this.holes) {
      const last = merged[merged.length - 1];
      if (last && h[0] <= last[1]) last[1] = Math.max(last[1], h[1]);
      else merged.push([h[0], h[1]]);
    }
    this.holes = merged;
  }

  /** Runs of equal state covering the sectors that [offset, offset+length) touches. */
  runs(offset: number, length: number): MappedRun[] {
    const first = Math.floor(offset / SECTOR);
    const end = Math.ceil((offset + length) / SECTOR);
    const out: MappedRun[] = [];
    const push = (s: number, e: number, mapped: boolean) => out.push({ offset: s * SECTOR, length: (e - s) * SECTOR, mapped });
    let pos = first;
    for (const [s, e] of this.holes) {
      if (e <= pos) continue;
      if (s >= end) break;
      if (s > pos) push(pos, s, true);
      const he = Math.min(e, end);
      push(Math.max(s, pos), he, false);
      pos = he;
    }
    if (pos < end) push(pos, end, true);
    return out;
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
}
