// Positional I/O on a backing disk: a regular file or a block device. The one place that
// opens disks; metadata, the replication engine and the plain file device all go through it.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface BackingDisk {
  readonly path: string;
  /** Whole size in bytes, metadata included. */
  readonly size: number;
  readonly isBlockDevice: boolean;
  /** Reads exactly buf.length bytes at pos (zeros past the end of a sparse file). */
  read(buf: Buffer, pos: number): Promise<void>;
  write(buf: Buffer, pos: number): Promise<void>;
  /** fdatasync: everything written so far is on stable storage. */
  sync(): Promise<void>;
  /** Deallocates [pos, pos+len) of a file disk (reads return zeros); zero-fills on a block device. */
  punchHole(pos: number, len: number): Promise<void>;
  close(): Promise<void>;
}

async function blockDeviceSize(fh: FileHandle): Promise<number> {
  // fstat reports 0 for block devices; the size is where the end is.
  const probe = Buffer.alloc(1);
  let lo = 0;
  let hi = 2 ** 52;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    const { bytesRead } = await fh.read(probe, 0, 1, mid - 1);
    if (bytesRead === 1) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export async function openBackingDisk(path: string, opts: { create?: number } = {}): Promise<BackingDisk> {
  let st = await stat(path).catch(() => undefined);
  if (!st && opts.create !== undefined) {
    const fh = await open(path, 'wx', 0o600);
    await fh.truncate(opts.create);
    await fh.close();
    st = await stat(path);
  }
  if (!st) throw new Error(`backing disk ${path} does not exist`);
  const isBlockDevice = st.isBlockDevice();
  if (!isBlockDevice && !st.isFile()) throw new Error(`backing disk ${path} is neither a file nor a block device`);
  const fh = await open(path, 'r+');
  const size = isBlockDevice ? await blockDeviceSize(fh) : st.size;

  const disk: BackingDisk = {
    path,
    size,
    isBlockDevice,
    async read(buf, pos) {
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await fh.read(buf, done, buf.length - done, pos + done);
        if (bytesRead === 0) {
          buf.fill(0, done);
          return;
        }
        done += bytesRead;
      }
    },
    async write(buf, pos) {
      let done = 0;
      while (done < buf.length) {
        const { bytesWritten } = await fh.write(buf, done, buf.length - done, pos + done);
        done += bytesWritten;
      }
    },
    sync: () => fh.datasync(),
    async punchHole(pos, len) {
      if (isBlockDevice) {
        const zero = Buffer.alloc(Math.min(len, 1 << 20));
        for (let off = 0; off < len; off += zero.length) await disk.write(zero.subarray(0, Math.min(zero.length, len - off)), pos + off);
        return;
      }
      // Node has no fallocate(2); util-linux's fallocate is on every host we deploy to.
      await execFileP('fallocate', ['--punch-hole', '--keep-size', '--offset', String(pos), '--length', String(len), path]);
    },
    close: () => fh.close(),
  };
  return disk;
}
