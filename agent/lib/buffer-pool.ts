// Reusable memory for received replication payloads. V8 starts a garbage collection for
// every few MiB of new Buffer memory, whether or not the JS heap grew: on a Secondary taking
// 100 MB/s of 4 KiB writes that was five major and fourteen minor collections a second, and
// the collector's threads took a fifth of a core. A payload taken from here goes back when
// its disk write has settled, so steady replication allocates nothing.
//
// Safety rests on one rule: release a buffer only when nothing reads it any more (the disk
// write is done and no other holder kept a view). A released buffer is handed out again and
// overwritten; releasing too early corrupts data, releasing never only costs an allocation.

/** Smallest class: 4 KiB of data; each class is a power of two plus room for a message's fixed fields. */
const MIN_CLASS_SHIFT = 12;
const SLACK = 64;

interface Owner {
  cls: number;
  whole: Buffer;
  free: boolean;
}

export interface BufferPoolStats {
  /** Buffers handed out that came from a free list. */
  reused: number;
  /** Buffers handed out that had to be allocated. */
  allocated: number;
  /** Releases of a buffer already free (a bug in the caller; ignored). */
  doubleReleases: number;
}

export class BufferPool {
  private readonly owners = new WeakMap<ArrayBuffer, Owner>();
  private readonly free: Buffer[][] = [];
  private freeBytes = 0;
  readonly stats: BufferPoolStats = { reused: 0, allocated: 0, doubleReleases: 0 };

  /** maxBytes: the most this pool keeps in its free lists; maxTake: larger requests are not pooled. */
  constructor(
    readonly maxBytes = 64 << 20,
    readonly maxTake = (1 << 20) + SLACK,
  ) {}

  /** A buffer of exactly n bytes (uninitialised). Give it back with release() when done with it. */
  take(n: number): Buffer {
    if (n > this.maxTake) return Buffer.allocUnsafeSlow(n);
    const cls = classOf(n);
    const list = this.free[cls];
    const whole = list?.pop();
    if (whole) {
      this.freeBytes -= whole.length;
      (this.owners.get(whole.buffer as ArrayBuffer) as Owner).free = false;
      this.stats.reused++;
      return whole.subarray(0, n);
    }
    const fresh = Buffer.allocUnsafeSlow(classBytes(cls));
    this.owners.set(fresh.buffer as ArrayBuffer, { cls, whole: fresh, free: false });
    this.stats.allocated++;
    return fresh.subarray(0, n);
  }

  /** Returns the buffer that `view` lies in. Views of memory this pool did not hand out are ignored. */
  release(view: Buffer): void {
    const owner = this.owners.get(view.buffer as ArrayBuffer);
    if (!owner) return;
    if (owner.free) {
      this.stats.doubleReleases++;
      return;
    }
    if (this.freeBytes + owner.whole.length > this.maxBytes) {
      // Over the cap: forget it, the collector takes it once the last view is gone.
      this.owners.delete(view.buffer as ArrayBuffer);
      return;
    }
    owner.free = true;
    this.freeBytes += owner.whole.length;
    (this.free[owner.cls] ??= []).push(owner.whole);
  }

  /** Bytes waiting in the free lists. */
  get pooledBytes(): number {
    return this.freeBytes;
  }
}

function classOf(n: number): number {
  let cls = 0;
  while (classBytes(cls) < n) cls++;
  return cls;
}

function classBytes(cls: number): number {
  return 2 ** (MIN_CLASS_SHIFT + cls) + SLACK;
}

/** The process's pool for replication payloads received from peers (Data, resync replies). */
export const payloadPool = new BufferPool();
