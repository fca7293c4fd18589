import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cBytes } from '../../../agent/lib/crc32c.js';

// Bit-at-a-time reference: slow, obviously right, used to check the sliced tables.
function crc32cSlow(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

// Deterministic pseudo-random bytes (xorshift32) so failures reproduce.
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    b[i] = s & 0xff;
  }
  return b;
}

describe('crc32c', () => {
  test('RFC 3720 appendix B.4 vectors', () => {
    assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
    // The iSCSI SCSI Read (10) command PDU of B.4.
    const pdu = Buffer.from(
      '01c00000' + '00000000' + '00000000' + '00000000' + '14000000' + '00000400' + '00000014' + '00000018' + '28000000' + '00000000' + '02000000' + '00000000',
      'hex',
    );
    assert.equal(pdu.length, 48);
    assert.equal(crc32c(pdu), 0xd9963a56);
    // The RFC prints the digest as bytes on the wire: aa 36 91 8a.
    assert.deepEqual(crc32cBytes(crc32c(Buffer.alloc(32, 0))), Buffer.from([0xaa, 0x36, 0x91, 0x8a]));
  });

  test('check value of "123456789" and the empty input', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
  });

  test('agrees with the bit-wise reference at every length and alignment', () => {
    const data = bytes(600, 7);
    for (let start = 0; start < 8; start++) {
      for (let len = 0; len < 300; len += start + 1) {
        const view = data.subarray(start, start + len);
        assert.equal(crc32c(view), crc32cSlow(view), `start ${start} len ${len}`);
      }
    }
  });

  test('chains: crc(b, crc(a)) equals crc(a ‖ b), also via start/end', () => {
    const data = bytes(5000, 99);
    for (const cut of [0, 1, 13, 64, 65, 4096, 4999, 5000]) {
      const whole = crc32c(data);
      assert.equal(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))), whole, `cut ${cut}`);
      assert.equal(crc32c(data, crc32c(data, 0, 0, cut), cut), whole, `range cut ${cut}`);
    }
    assert.throws(() => crc32c(data, 0, 10, 5), RangeError);
  });

  test('works on plain Uint8Array views of shared buffers', () => {
    const ab = new ArrayBuffer(1024);
    const u = new Uint8Array(ab, 3, 700);
    u.set(bytes(700, 3));
    assert.equal(crc32c(u), crc32cSlow(u));
  });
});
