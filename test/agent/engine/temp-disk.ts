// Temp-dir backing disks for the engine's metadata tests: real files, removed afterwards
// even when the test fails, plus a wrapper that records every write.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackingDisk, type BackingDisk } from '../../../agent/block/backing-disk.js';

export async function withDisk<T>(size: number, fn: (disk: BackingDisk, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-md-'));
  let disk: BackingDisk | undefined;
  try {
    disk = await openBackingDisk(join(dir, 'disk.img'), { create: size });
    return await fn(disk, dir);
  } finally {
    await disk?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

export interface CountingDisk extends BackingDisk {
  readonly writes: Array<{ pos: number; len: number; durable: boolean }>;
  syncs: number;
}

/** The same disk, recording writes and syncs (a separate handle object for metadata's per-disk state). */
export function counting(disk: BackingDisk): CountingDisk {
  const c: CountingDisk = {
    path: disk.path,
    size: disk.size,
    isBlockDevice: disk.isBlockDevice,
    writes: [],
    syncs: 0,
    read: (buf, pos) => disk.read(buf, pos),
    write: (buf, pos, opts) => {
      c.writes.push({ pos, len: buf.length, durable: opts?.durable === true });
      return disk.write(buf, pos, opts);
    },
    sync: () => {
      c.syncs++;
      return disk.sync();
    },
    discard: (pos, len) => disk.discard(pos, len),
    close: () => disk.close(),
  };
  return c;
}
