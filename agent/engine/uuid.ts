// 64-bit generation identifiers (engine-semantics.md, "Generation identifiers"): bigint in
// memory, 16 upper-case hex digits on screen and on the wire (GenerationIds in protocol/messages.ts).
import { randomBytes } from 'node:crypto';

/** C of a freshly created metadata area: "this disk never held data". */
export const UUID_JUST_CREATED = 4n;
export const UUID_NONE = 0n;
const U64 = (1n << 64n) - 1n;

/** Anything that yields uniform uint32s: createPrng() in simulations, systemRng in production. */
export interface UuidRng {
  next(): number;
}

export const systemRng: UuidRng = {
  next: () => randomBytes(4).readUInt32LE(0),
};

/** The lowest bit records "was Primary" and never takes part in a comparison. */
export function uuidEq(a: bigint, b: bigint): boolean {
  return a >> 1n === b >> 1n;
}

/**
 * A fresh random UUID with the "was Primary" bit clear (set it with withPrimaryBit). Never
 * one that compares equal to 0 or 4, whose meanings are reserved.
 */
export function newUuid(rng: UuidRng): bigint {
  for (;;) {
    const u = ((BigInt(rng.next() >>> 0) << 32n) | BigInt(rng.next() >>> 0)) & ~1n;
    if (!uuidEq(u, UUID_NONE) && !uuidEq(u, UUID_JUST_CREATED)) return u;
  }
}

export function withPrimaryBit(u: bigint, primary: boolean): bigint {
  return primary ? u | 1n : u & ~1n;
}

export function formatUuid(u: bigint): string {
  return (u & U64).toString(16).toUpperCase().padStart(16, '0');
}

export function parseUuid(s: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(s)) throw new Error(`not a 64-bit UUID: ${JSON.stringify(s)}`);
  return BigInt(`0x${s}`);
}
