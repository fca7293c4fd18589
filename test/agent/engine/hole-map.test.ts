import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HoleMap } from '../../../agent/engine/hole-map.js';

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
});
