// A small seeded PRNG (xoshiro128**, seeded through splitmix32) for deterministic
// simulations and randomized tests: the same seed gives the same sequence on every
// machine, which Math.random cannot promise. Not for secrets or production UUIDs.

export interface Prng {
  /** Next unsigned 32-bit integer. */
  next(): number;
  /** Uniform in [0, 1), 32 bits of resolution. */
  float(): number;
  /** Uniform integer in [0, n), unbiased; n a positive safe integer. */
  int(n: number): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export function createPrng(seed: number | bigint): Prng {
  // Fold a wide seed into 32 bits so that 64-bit seeds (bigint) still select distinct streams.
  const s32 = typeof seed === 'bigint' ? Number(BigInt.asUintN(32, seed ^ (seed >> 32n))) : (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
  const sm = splitmix32(s32);
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  if ((a | b | c | d) === 0) a = 1; // the all-zero state is a fixed point

  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c = (c ^ a) >>> 0;
    d = (d ^ b) >>> 0;
    b = (b ^ c) >>> 0;
    a = (a ^ d) >>> 0;
    c = (c ^ t) >>> 0;
    d = rotl(d, 11);
    return result;
  };

  const float = (): number => next() / 2 ** 32;

  const int = (n: number): number => {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`prng.int: bad bound ${n}`);
    if (n <= 2 ** 32) {
      // Rejection sampling: drop the top partial copy of [0, n) so every residue is equally likely.
      const limit = 2 ** 32 - (2 ** 32 % n);
      for (;;) {
        const x = next();
        if (x < limit) return x % n;
      }
    }
    // Wider bounds (huge disks): 53 random bits, rejection on the top partial range.
    const limit = 2 ** 53 - (2 ** 53 % n);
    for (;;) {
      const x = (next() >>> 11) * 2 ** 32 + next();
      if (x < limit) return x % n;
    }
  };

  return { next, float, int };
}
