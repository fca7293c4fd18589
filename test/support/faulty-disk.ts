// A backing disk that fails on demand, for runtime tests: the fault hook lives here, in test
// support, and wraps the BackingDisk object of a VolumeStore, so no production code path can
// turn it on. Data writes, metadata writes (superblock, bitmap, activity log: everything past
// the data area) and flushes (fdatasync) fail independently, with the errno the kernel gives.
import type { VolumeStore } from '../../agent/engine/volume-store.js';

export interface DiskFaults {
  /** Data writes fail with ENOSPC (a full filesystem under a file disk). */
  data: boolean;
  /** Writes into the metadata area fail with EIO. */
  meta: boolean;
  /** fdatasync fails with EIO. */
  flush: boolean;
}

function errno(code: 'EIO' | 'ENOSPC'): Error {
  const text = code === 'EIO' ? 'i/o error' : 'no space left on device';
  return Object.assign(new Error(`${code}: ${text}, write`), { code });
}

/** Installs the hook on the store's disk; flip the returned flags to fail and heal. */
export function injectFaults(store: VolumeStore): DiskFaults {
  const faults: DiskFaults = { data: false, meta: false, flush: false };
  const disk = store.disk;
  const { write, sync } = disk;
  const dataEnd = store.layout.dataBytes;
  disk.write = (buf, pos, opts) => {
    if (pos < dataEnd ? faults.data : faults.meta) return Promise.reject(errno(pos < dataEnd ? 'ENOSPC' : 'EIO'));
    return write.call(disk, buf, pos, opts);
  };
  disk.sync = () => (faults.flush ? Promise.reject(errno('EIO')) : sync.call(disk));
  return faults;
}
