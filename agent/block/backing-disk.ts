// Positional I/O on a backing disk: a regular file or a block device. The one place that
// opens disks; metadata, the replication engine and the plain file device all go through it.
import { close as fsClose, constants as fsConstants, fdatasync as fsFdatasync, open as fsOpen } from 'node:fs';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { IoQueue, writeFully } from './io-queue.js';

const execFileP = promisify(execFile);
/** Spawning fallocate(1) costs milliseconds; a smaller range is cheaper to zero-fill. */
const DISCARD_PUNCH_BYTES = 256 * 1024;

export interface BackingDisk {
  readonly path: string;
  /** Whole size in bytes, metadata included. */
  readonly size: number;
  readonly isBlockDevice: boolean;
  /** Reads exactly buf.length bytes at pos (zeros past the end of a sparse file). */
  read(buf: Buffer, pos: number): Promise<void>;
  /**
   * With `durable`, the range is on stable storage when this resolves (an O_DSYNC write: that
   * range plus a device cache flush), while the rest of the disk's dirty data stays where it
   * is; sync() is the full barrier.
   */
  write(buf: Buffer, pos: number, opts?: { durable?: boolean }): Promise<void>;
  /** fdatasync: everything written so far is on stable storage. */
  sync(): Promise<void>;
  /**
   * Zeros [pos, pos+len), deallocating it where that pays: a hole is punched in a file disk for
   * ranges of DISCARD_PUNCH_BYTES and more; smaller ranges and block devices are zero-filled.
   */
  discard(pos: number, len: number): Promise<void>;
  close(): Promise<void>;
}

/** Writes zeros over [pos, pos+len), a MiB at a time. */
export async function zeroRange(disk: BackingDisk, pos: number, len: number): Promise<void> {
  const chunk = Buffer.alloc(Math.min(len, 1 << 20));
  for (let off = 0; off < len; off += chunk.length) await disk.write(chunk.subarray(0, Math.min(chunk.length, len - off)), pos + off);
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
  const openFd = (flags: string | number) => new Promise<number>((resolve, reject) => fsOpen(path, flags, (e, f) => (e ? reject(e) : resolve(f))));
  const fd = await openFd('r+');
  // Metadata writes (AL transactions, bitmap pages) must be durable before the data they
  // guard is written; an fdatasync for that would also write back every dirty data page of
  // the disk, which at page-cache speed is most of the volume's recent writes.
  const dsyncFd = await openFd(fsConstants.O_RDWR | fsConstants.O_DSYNC).catch(async (e: Error) => {
    await new Promise((r) => fsClose(fd, r));
    throw e;
  });
  // Handing a request to the thread pool costs the event loop more than a 4 KiB pwrite to the
  // page cache, so requests wait for the batch ahead of them and go merged: writes one batch
  // at a time (buffered writes to one file serialize in the kernel anyway), reads two.
  const reads = new IoQueue(fd, 'read', 2);
  const writes = new IoQueue(fd, 'write', 1);
  const closeFd = (f: number) => new Promise<void>((resolve, reject) => fsClose(f, (e) => (e ? reject(e) : resolve())));

  const disk: BackingDisk = {
    path,
    size,
    isBlockDevice,
    read: (buf, pos) => reads.submit(buf, pos),
    write: (buf, pos, opts) => (opts?.durable ? writeFully(dsyncFd, buf, pos) : writes.submit(buf, pos)),
    sync: () => new Promise((resolve, reject) => fsFdatasync(fd, (e) => (e ? reject(e) : resolve()))),
    async discard(pos, len) {
      const zeroFill = () => zeroRange(disk, pos, len);
      if (isBlockDevice || len < DISCARD_PUNCH_BYTES) return zeroFill();
      // Node has no fallocate(2); util-linux's fallocate is on every host we deploy to. Where it
      // fails (missing, a filesystem without hole punching) the range is zero-filled instead:
      // a discard must not fail on one node and succeed on the other.
      await execFileP('fallocate', ['--punch-hole', '--keep-size', '--offset', String(pos), '--length', String(len), path]).catch(zeroFill);
    },
    close: async () => {
      await Promise.all([reads.idle(), writes.idle()]);
      await Promise.all([closeFd(fd), closeFd(dsyncFd)]);
    },
  };
  return disk;
}
