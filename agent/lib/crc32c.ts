// CRC32C (Castagnoli: the iSCSI header/data digest of RFC 3720 and the peer link's frame
// check) in pure JS. Node 20 has no native crc32c and we add no packages, so this is
// table-driven "slicing": sixteen 256-entry tables fold 16 input bytes per step with 16
// lookups. The input is read as aligned 32-bit words through an Int32Array view, which halves
// the work V8 does per byte. Measured on this machine (1 MiB buffers): byte-wise slice-by-8
// ~0.9–1.6 GB/s, word-wise slice-by-8 ~1.8 GB/s, word-wise slice-by-16 ~2.3 GB/s.

import { endianness } from 'node:os';

const POLY_REFLECTED = 0x82f63b78;
const SLICES = 16;

function makeTables(): Int32Array[] {
  const t0 = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t0[n] = c;
  }
  const tables = [t0];
  for (let k = 1; k < SLICES; k++) {
    const prev = tables[k - 1] as Int32Array;
    const t = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      const p = prev[n] as number;
      t[n] = (p >>> 8) ^ (t0[p & 0xff] as number);
    }
    tables.push(t);
  }
  return tables;
}

const TABLES = makeTables();
const T0 = TABLES[0] as Int32Array;
const T1 = TABLES[1] as Int32Array;
const T2 = TABLES[2] as Int32Array;
const T3 = TABLES[3] as Int32Array;
const T4 = TABLES[4] as Int32Array;
const T5 = TABLES[5] as Int32Array;
const T6 = TABLES[6] as Int32Array;
const T7 = TABLES[7] as Int32Array;
const T8 = TABLES[8] as Int32Array;
const T9 = TABLES[9] as Int32Array;
const T10 = TABLES[10] as Int32Array;
const T11 = TABLES[11] as Int32Array;
const T12 = TABLES[12] as Int32Array;
const T13 = TABLES[13] as Int32Array;
const T14 = TABLES[14] as Int32Array;
const T15 = TABLES[15] as Int32Array;

// The word path assumes the CPU's byte order matches the CRC's (little endian: x86, arm64).
const WORDS_OK = endianness() === 'LE';
// Below this, building a typed-array view costs more than it saves.
const WORD_THRESHOLD = 64;

/**
 * CRC32C of `data[start, end)`. `crc` is a previous result to continue from, so
 * `crc32c(b, crc32c(a)) === crc32c(a ‖ b)`: a frame header and its payload, or an iSCSI
 * PDU's segments, are checked without concatenating them. Returns an unsigned 32-bit number.
 */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  if (start < 0 || end > data.length || start > end) throw new RangeError(`crc32c: bad range [${start}, ${end}) of ${data.length}`);
  let c = ~crc;
  let i = start;
  // `as number` only satisfies noUncheckedIndexedAccess: the loop bounds keep indexes valid.
  if (WORDS_OK && end - i >= WORD_THRESHOLD) {
    while (((data.byteOffset + i) & 3) !== 0) {
      c = (c >>> 8) ^ (T0[(c ^ (data[i] as number)) & 0xff] as number);
      i++;
    }
    const blocks = (end - i) >>> 4;
    const w = new Int32Array(data.buffer, data.byteOffset + i, blocks * 4);
    for (let j = 0; j < w.length; j += 4) {
      const a = c ^ (w[j] as number);
      const b = w[j + 1] as number;
      const d = w[j + 2] as number;
      const e = w[j + 3] as number;
      c =
        (T15[a & 0xff] as number) ^
        (T14[(a >>> 8) & 0xff] as number) ^
        (T13[(a >>> 16) & 0xff] as number) ^
        (T12[a >>> 24] as number) ^
        (T11[b & 0xff] as number) ^
        (T10[(b >>> 8) & 0xff] as number) ^
        (T9[(b >>> 16) & 0xff] as number) ^
        (T8[b >>> 24] as number) ^
        (T7[d & 0xff] as number) ^
        (T6[(d >>> 8) & 0xff] as number) ^
        (T5[(d >>> 16) & 0xff] as number) ^
        (T4[d >>> 24] as number) ^
        (T3[e & 0xff] as number) ^
        (T2[(e >>> 8) & 0xff] as number) ^
        (T1[(e >>> 16) & 0xff] as number) ^
        (T0[e >>> 24] as number);
    }
    i += blocks * 16;
  }
  while (i < end) {
    c = (c >>> 8) ^ (T0[(c ^ (data[i] as number)) & 0xff] as number);
    i++;
  }
  return ~c >>> 0;
}

/** Little-endian 4 bytes, the order iSCSI puts a CRC32C digest on the wire (RFC 3720 B.4). */
export function crc32cBytes(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(value >>> 0, 0);
  return b;
}
