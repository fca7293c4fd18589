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

/** Beyond this many separate holes new ones go unrecorded (reported mapped, which is safe). */
export const MAX_HOLES = 65536;

export class HoleMap {
  /** Sorted, disjoint, non-adjacent [start, end) sector ranges that are deallocated. */
  private holes: Array<[number, number]> = [];

  /** `deallocatedBytes`: the first that many bytes start deallocated (a new, empty file). */
  constructor(deallocatedBytes = 0) {
    const end = Math.floor(deallocatedBytes / SECTOR);
    if (end > 0) this.holes.push([0, end]);
  }

  get size(): number {
    return this.holes.length;
  }

  written(offset: number, length: number): void {
    // The common case on the write path: nothing was ever discarded.
    if (this.holes.length === 0) return;
    const start = Math.floor(offset / SECTOR);
    const end = Math.ceil((offset + length) / SECTOR);
    const i = this.firstEndingAfter(start);
    if (i === this.holes.length || this.holes[i]![0] >= end) return;
    let j = i;
    const keep: Array<[number, number]> = [];
    for (; j < this.holes.length && this.holes[j]![0] < end; j++) {
      const [s, e] = this.holes[j]!;
      if (s < start) keep.push([s, start]);
      if (e > end) keep.push([end, e]);
    }
    this.holes.splice(i, j - i, ...keep);
  }

  discarded(offset: number, length: number): void {
    let start = Math.ceil(offset / SECTOR);
    let end = Math.floor((offset + length) / SECTOR);
    if (end <= start) return;
    // Holes that overlap or touch the new one merge with it.
    const i = this.firstEndingAfter(start - 1);
    let j = i;
    for (; j < this.holes.length && this.holes[j]![0] <= end; j++) {
      start = Math.min(start, this.holes[j]![0]);
      end = Math.max(end, this.holes[j]![1]);
    }
    if (j === i && this.holes.length >= MAX_HOLES) return;
    this.holes.splice(i, j - i, [start, end]);
  }

  /** Runs of equal state covering the sectors that [offset, offset+length) touches. */
  runs(offset: number, length: number): MappedRun[] {
    const first = Math.floor(offset / SECTOR);
    const end = Math.ceil((offset + length) / SECTOR);
    const out: MappedRun[] = [];
    const push = (s: number, e: number, mapped: boolean) => out.push({ offset: s * SECTOR, length: (e - s) * SECTOR, mapped });
    let pos = first;
    for (let k = this.firstEndingAfter(first); k < this.holes.length; k++) {
      const [s, e] = this.holes[k]!;
      if (s >= end) break;
      if (s > pos) push(pos, s, true);
      const he = Math.min(e, end);
      push(Math.max(s, pos), he, false);
      pos = he;
    }
    if (pos < end) push(pos, end, true);
    return out;
  }

  /** Index of the first hole whose end is past `sector` (binary search). */
  private firstEndingAfter(sector: number): number {
    let lo = 0;
    let hi = this.holes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.holes[mid]![1] > sector) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
