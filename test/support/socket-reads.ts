// Feeds a byte stream to a framer the way agent/net/reused-reads.ts does: each read lands in
// the place the framer names (directTarget) when it names one, else in one shared buffer that
// is overwritten after every read. Read sizes are random (what the kernel happened to have).
import { createPrng } from './prng.js';

export interface DirectFramer<T> {
  append(chunk: Buffer): void;
  directTarget(): Buffer | undefined;
  placed(n: number): void;
  next(): T | null;
}

export function readLikeSocket<T>(wire: Buffer, f: DirectFramer<T>, seed: number, maxRead = 256 << 10): { out: T[]; placedBytes: number } {
  const r = createPrng(seed);
  const shared = Buffer.alloc(maxRead);
  const out: T[] = [];
  let placedBytes = 0;
  for (let at = 0; at < wire.length; ) {
    const target = f.directTarget();
    // Short reads now and then, from a byte up: a framer must take any split.
    const want = r.float() < 0.2 ? 1 + r.int(64) : 1 + r.int(maxRead);
    const n = Math.min(target?.length ?? maxRead, wire.length - at, want);
    if (target) {
      wire.copy(target, 0, at, at + n);
      f.placed(n);
      placedBytes += n;
    } else {
      wire.copy(shared, 0, at, at + n);
      f.append(shared.subarray(0, n));
    }
    at += n;
    for (let x = f.next(); x !== null; x = f.next()) out.push(x);
    shared.fill(0x11);
  }
  return { out, placedBytes };
}
