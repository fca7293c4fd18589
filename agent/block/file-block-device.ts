// A plain, non-replicated BlockDevice over a backing disk: for tests, benchmarks and the
// iSCSI target before the replication engine hands it replicated devices.
//
// Allocation (for GET LBA STATUS) is tracked in a HoleMap: on open a file with no allocated
// blocks counts as wholly deallocated, any other as wholly mapped.
import { stat } from 'node:fs/promises';
import { IoError, type BlockDevice } from './block-device.js';
import { openBackingDisk, type BackingDisk } from './backing-disk.js';
import { HoleMap, type MappedRun } from './hole-map.js';

const SECTOR = 512;

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
    const holes = new HoleMap(st && st.blocks === 0 ? size : 0);
    return new FileBlockDevice(disk, size, holes);
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new IoError(`range [${offset}, +${length}) outside the ${this.size}-byte device`, 'out-of-range');
    }
  }

  afterWrites(done: () => void): void {
    done();
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
    this.holes.written(offset, data.length);
    if (opts?.fua) await this.disk.sync();
  }

  flush(): Promise<void> {
    return this.disk.sync();
  }

  async discard(offset: number, length: number): Promise<void> {
    this.checkRange(offset, length);
    if (length === 0) return;
    // A small range is zero-filled, not punched; reads return zeros either way, and the map
    // still reports it deallocated.
    await this.disk.discard(offset, length);
    this.holes.discarded(offset, length);
  }

  async mapped(offset: number, length: number): Promise<MappedRun[]> {
    this.checkRange(offset, length);
    return this.holes.runs(offset, length);
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
