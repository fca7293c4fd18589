// An in-memory BlockDevice for tests, with a hook to stall reads (to prove the target keeps
// answering while a volume is slow).
import { IoError, type BlockDevice } from '../../agent/block/block-device.js';
import { setTimeout as sleep } from 'node:timers/promises';

export class MemoryBlockDevice implements BlockDevice {
  readonly blockSize = 512;
  readonly data: Buffer;
  readDelayMs = 0;
  /** Writes take the data this long after they were called (a buffer reused meanwhile shows). */
  writeDelayMs = 0;
  writes = 0;
  /** Calls that reached the device with a range outside it (the target must never make one). */
  outOfRange = 0;
  flushes = 0;
  fuaWrites = 0;
  private readonly holders = new Set<string>();

  constructor(readonly size: number) {
    this.data = Buffer.alloc(size);
  }

  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      this.outOfRange++;
      throw new IoError('out of range', 'out-of-range');
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.check(offset, length);
    if (this.readDelayMs > 0) await sleep(this.readDelayMs);
    return Buffer.from(this.data.subarray(offset, offset + length));
  }

  async write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void> {
    this.check(offset, data.length);
    if (this.writeDelayMs > 0) await sleep(this.writeDelayMs);
    data.copy(this.data, offset);
    this.writes++;
    if (opts?.fua) this.fuaWrites++;
  }

  afterWrites(done: () => void): void {
    done();
  }

  async flush(): Promise<void> {
    this.flushes++;
  }

  async discard(offset: number, length: number): Promise<void> {
    this.check(offset, length);
    this.data.fill(0, offset, offset + length);
  }

  open(holder: string): () => void {
    this.holders.add(holder);
    return () => this.holders.delete(holder);
  }

  get holderCount(): number {
    return this.holders.size;
  }
}
