// Bytes received and not yet consumed, kept as the chunks they arrived in, for the framers of
// the peer link and the iSCSI target. Consumers copy bytes out (copyInto); a chunk is kept
// only until the call that consumed it returns, because the socket reads into the same memory
// again (reused-reads.ts).

export class ChunkQueue {
  private chunks: Buffer[] = [];
  /** Bytes of the first chunk already consumed. */
  private head = 0;

  /** Bytes waiting. */
  get length(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n - this.head;
  }

  /**
   * Adds a chunk. Consume until copyInto stops short before the chunk's memory is reused;
   * input left from an earlier chunk is copied first, so it never depends on such memory.
   */
  append(chunk: Buffer): void {
    if (this.chunks.length > 0) {
      this.chunks = [Buffer.concat([(this.chunks[0] as Buffer).subarray(this.head), ...this.chunks.slice(1)])];
      this.head = 0;
    }
    if (chunk.length > 0) this.chunks.push(chunk);
  }

  /** Moves bytes into dst[at, end) until that is full or the queue is empty; returns bytes moved. */
  copyInto(dst: Buffer, at: number, end = dst.length): number {
    let moved = 0;
    while (at + moved < end && this.chunks.length > 0) {
      const chunk = this.chunks[0] as Buffer;
      const k = chunk.copy(dst, at + moved, this.head, Math.min(chunk.length, this.head + end - at - moved));
      moved += k;
      this.head += k;
      if (this.head === chunk.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    return moved;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
  }
}
