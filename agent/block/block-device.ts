// The block I/O API of a volume: what the iSCSI target and tests use. On a Primary it is
// backed by the replication engine (a write completes per the resource's protocol); the
// file-backed implementation serves tests and benchmarks that need no replication.

export interface BlockDevice {
  /** Usable bytes (the backing disk minus internal metadata). */
  readonly size: number;
  /** Logical block size in bytes (512). */
  readonly blockSize: number;
  read(offset: number, length: number): Promise<Buffer>;
  /** Resolves when the write is durable per the protocol; with fua, also flushed to stable storage. */
  write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void>;
  /** Makes every completed write durable on every UpToDate node. */
  flush(): Promise<void>;
  /** Deallocates the range (hole punch on file disks); reads return zeros afterwards. */
  discard(offset: number, length: number): Promise<void>;
  /** Whether [offset, offset+length) is allocated (for GET LBA STATUS); ranges of equal state. */
  mapped?(offset: number, length: number): Promise<Array<{ offset: number; length: number; mapped: boolean }>>;
  /**
   * Calls done once no write completed so far reads its data buffer any more, so a caller
   * may reuse them (under protocol A a write completes while the peer link may still be
   * sending it). Devices without it: never reuse a write's buffer.
   */
  afterWrites?(done: () => void): void;
  /** In-use accounting: a holder (an iSCSI session) keeps the device open; `secondary` is refused while any is held. */
  open(holder: string): () => void;
}

export class IoError extends Error {
  constructor(
    message: string,
    readonly code: 'not-primary' | 'out-of-range' | 'io' | 'suspended',
  ) {
    super(message);
    this.name = 'IoError';
  }
}
