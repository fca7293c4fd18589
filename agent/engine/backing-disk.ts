// Positional I/O on a backing disk: a regular file or a block device. The one place that
// opens disks; metadata, the replication engine and the plain file device all go through it.
import { close as fsClose, fdatasync as fsFdatasync, open as fsOpen, read as fsRead, write as fsWrite } from 'node:fs';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
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
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const fh = await open(path, 'wx', 0o600);
    await fh.truncate(opts.create);
    await fh.close();
    st = await stat(path);
  }
  if (!st) throw new Error(`backing disk ${path} does not exist`);
  const isBlockDevice = st.isBlockDevice();
  if (!isBlockDevice && !st.isFile()) throw new Error(`backing disk ${path} is neither a file nor a block device`);
  let size = st.size;
  if (isBlockDevice) {
    const fh = await open(path, 'r');
    size = await blockDeviceSize(fh).finally(() => fh.close());
  }
  // A raw descriptor with callback I/O: the FileHandle promise API costs about twice as
  // much per call, and small random I/O at depth (iSCSI 4 KiB QD32) is made of calls.
  const fd = await new Promise<number>((resolve, reject) => fsOpen(path, 'r+', (e, f) => (e ? reject(e) : resolve(f))));

  const disk: BackingDisk = {
    path,
    size,
    isBlockDevice,
    read: (buf, pos) =>
      new Promise((resolve, reject) => {
        const step = (done: number): void => {
          if (done === buf.length) return resolve();
          fsRead(fd, buf, done, buf.length - done, pos + done, (err, n) => {
            if (err) return reject(err);
            if (n === 0) {
              buf.fill(0, done);
              return resolve();
            }
            step(done + n);
          });
        };
        step(0);
      }),
    write: (buf, pos) =>
      new Promise((resolve, reject) => {
        const step = (done: number): void => {
          if (done === buf.length) return resolve();
          fsWrite(fd, buf, done, buf.length - done, pos + done, (err, n) => (err ? reject(err) : step(done + n)));
        };
        step(0);
      }),
    sync: () => new Promise((resolve, reject) => fsFdatasync(fd, (e) => (e ? reject(e) : resolve()))),
    async punchHole(pos, len) {
      if (isBlockDevice) {
        const zero = Buffer.alloc(Math.min(len, 1 << 20));
        for (let off = 0; off < len; off += zero.length) await disk.write(zero.subarray(0, Math.min(zero.length, len - off)), pos + off);
        return;
      }
      // Node has no fallocate(2); util-linux's fallocate is on every host we deploy to.
      await execFileP('fallocate', ['--punch-hole', '--keep-size', '--offset', String(pos), '--length', String(len), path]);
    },
    close: () => new Promise((resolve, reject) => fsClose(fd, (e) => (e ? reject(e) : resolve()))),
  };
  return disk;
}
