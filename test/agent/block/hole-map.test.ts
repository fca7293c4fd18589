import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HoleMap, MAX_HOLES } from '../../../agent/block/hole-map.js';
import { createPrng } from '../../support/prng.js';

const S = 512;
const runs = (h: HoleMap, from: number, to: number) => h.runs(from * S, (to - from) * S).map((r) => [r.offset / S, (r.offset + r.length) / S, r.mapped]);

describe('HoleMap', () => {
  test('writes map and discards deallocate, in runs of equal state', () => {
    const h = new HoleMap(100 * S);
    h.written(10 * S, 10 * S);
    h.written(50 * S, 10 * S);
    assert.deepEqual(runs(h, 0, 100), [
      [0, 10, false],
      [10, 20, true],
      [20, 50, false],
      [50, 60, true],
      [60, 100, false],
    ]);
    h.discarded(15 * S, 40 * S);
    assert.deepEqual(runs(h, 5, 70), [
      [5, 10, false],
      [10, 15, true],
      [15, 55, false],
      [55, 60, true],
      [60, 70, false],
    ]);
  });

  test('a write maps every sector it touches; a discard frees only whole sectors', () => {
    const h = new HoleMap();
    assert.deepEqual(runs(h, 0, 8), [[0, 8, true]]);
    h.discarded(100, 4 * S); // covers sectors 1..3 whole, 0 and 4 in part
    assert.deepEqual(runs(h, 0, 8), [
      [0, 1, true],
      [1, 4, false],
      [4, 8, true],
    ]);
    h.written(2 * S + 1, 1); // one byte maps its sector
    assert.deepEqual(runs(h, 0, 8), [
      [0, 1, true],
      [1, 2, false],
      [2, 3, true],
      [3, 4, false],
      [4, 8, true],
    ]);
    h.discarded(0, 100); // less than a sector: nothing to free
    assert.deepEqual(runs(h, 0, 1), [[0, 1, true]]);
  });

  for (const blank of [true, false]) test(`agrees with a per-sector model over random writes and discards (${blank ? 'a new, empty file' : 'a file with data'})`, () => {
    const p = createPrng(7);
    const SECTORS = 512;
    const h = new HoleMap(blank ? SECTORS * S : 0);
    const model = new Array<boolean>(SECTORS).fill(blank);
    for (let step = 0; step < 3000; step++) {
      const off = p.int(SECTORS * S);
      const len = 1 + p.int(Math.min(SECTORS * S - off, 40 * S));
      if (p.int(2) === 0) {
        h.written(off, len);
        for (let x = Math.floor(off / S); x < Math.ceil((off + len) / S); x++) model[x] = false;
      } else {
        h.discarded(off, len);
        for (let x = Math.ceil(off / S); x < Math.floor((off + len) / S); x++) model[x] = true;
      }
      const got = new Array<boolean>(SECTORS);
      for (const r of h.runs(0, SECTORS * S)) for (let x = r.offset / S; x < (r.offset + r.length) / S; x++) got[x] = !r.mapped;
      assert.deepEqual(got, model, `step ${step}`);
    }
  });

  test('many separate holes stay cheap, and past MAX_HOLES new ones go unrecorded (mapped)', () => {
    const h = new HoleMap();
    const t0 = Date.now();
    for (let i = 0; i < MAX_HOLES + 10; i++) h.discarded(i * 2 * 4096, 4096);
    for (let i = 0; i < 10000; i++) h.written(((i * 7919) % MAX_HOLES) * 2 * 4096 + 4096, 4096);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.equal(h.size, MAX_HOLES);
    assert.deepEqual(h.runs(MAX_HOLES * 2 * 4096, 4096), [{ offset: MAX_HOLES * 2 * 4096, length: 4096, mapped: true }]);
    assert.equal(h.runs(0, 4096)[0]!.mapped, false);
  });
});
