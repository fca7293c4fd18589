import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createPrng } from '../../support/prng.js';
import { newUuid, parseUuid, systemRng, withPrimaryBit } from '../../../agent/engine/uuid.js';
import { formatUuid, uuidEq } from '../../../agent/engine/uuid.js';

describe('uuid', () => {
  test('uuidEq ignores only the lowest bit', () => {
    assert.ok(uuidEq(0xabcdn, 0xabccn));
    assert.ok(uuidEq(4n, 5n));
    assert.ok(!uuidEq(4n, 6n));
    assert.ok(uuidEq(withPrimaryBit(0x1234n, true), 0x1234n));
    assert.equal(withPrimaryBit(0x1235n, false), 0x1234n);
  });

  test('newUuid: deterministic per seed, low bit clear, never 0 or 4', () => {
    // An rng that first yields the reserved values must be skipped past.
    const seq = [0, 0, 0, 5, 0, 4, 0xdeadbeef, 0x12345679];
    let i = 0;
    assert.equal(newUuid({ next: () => seq[i++] as number }), 0xdeadbeef12345678n);
    const a = createPrng(9);
    const b = createPrng(9);
    for (let k = 0; k < 100; k++) {
      const u = newUuid(a);
      assert.equal(u, newUuid(b));
      assert.equal(u & 1n, 0n);
      assert.ok(u < 1n << 64n);
    }
    assert.notEqual(newUuid(systemRng), newUuid(systemRng));
  });

  test('format is 16 upper-case hex digits; parse inverts it', () => {
    assert.equal(formatUuid(4n), '0000000000000004');
    assert.equal(formatUuid(0xdeadbeefcafef00dn), 'DEADBEEFCAFEF00D');
    assert.equal(parseUuid('DEADBEEFCAFEF00D'), 0xdeadbeefcafef00dn);
    assert.equal(parseUuid(formatUuid(123456789n)), 123456789n);
    assert.throws(() => parseUuid('xyz'));
    assert.throws(() => parseUuid('00000000000000000'));
  });
});
