import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { IdMap } from '../../../agent/lib/id-map.js';
import { createPrng } from '../../support/prng.js';

const execFileP = promisify(execFile);

describe('IdMap', () => {
  test('behaves as a Map under random sets, deletes, re-inserts and clears (seeded)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = createPrng(seed);
      const ours = new IdMap<number>();
      const model = new Map<number, number>();
      let next = r.int(2 ** 40);
      for (let step = 0; step < 3000; step++) {
        const x = r.float();
        // Mostly sequential ids, some far apart, some re-used: a window that slides and bursts.
        const key = x < 0.5 ? next++ : x < 0.6 ? Math.floor(r.float() * 2 ** 52) * 2 + (r.next() & 1) : [...model.keys()][r.int(model.size + 1)] ?? next++;
        if (x < 0.7 || model.size < 5) {
          ours.set(key, step);
          model.set(key, step);
        } else if (x < 0.995) {
          assert.equal(ours.delete(key), model.delete(key));
        } else {
          ours.clear();
          model.clear();
        }
        assert.equal(ours.size, model.size);
        assert.equal(ours.get(key), model.get(key));
        assert.equal(ours.has(key + 1), model.has(key + 1));
        if (step % 97 === 0) assert.deepEqual([...ours], [...model], `seed ${seed} step ${step}: order`);
      }
      assert.deepEqual([...ours.keys()], [...model.keys()]);
      assert.deepEqual([...ours.values()], [...model.values()]);
    }
  });

  test('iteration follows Map: deleted entries are skipped, added ones visited, the current one may go', () => {
    const ours = new IdMap<string>();
    const model = new Map<number, string>();
    for (const m of [ours, model]) for (let k = 1; k <= 200; k++) m.set(k, `v${k}`);
    const seen = (m: IdMap<string> | Map<number, string>): number[] => {
      const out: number[] = [];
      for (const [k] of m) {
        out.push(k);
        m.delete(k); // the current one
        if (k % 3 === 0) m.delete(k + 1); // one not yet reached
        if (k === 50) m.set(1000, 'late'); // one added meanwhile
        if (k === 60) m.set(5, 'again'); // a deleted key back: visited at the end, as new
      }
      return out;
    };
    assert.deepEqual(seen(ours), seen(model));
    assert.equal(ours.size, model.size);
  });

  test('bursts of queue depth keep the table; a long quiet spell shrinks it back', () => {
    const m = new IdMap<number>();
    let id = 0;
    const burst = (n: number): void => {
      const first = id + 1;
      for (let k = 0; k < n; k++) m.set(++id, k);
      for (let k = first; k <= id; k++) m.delete(k);
    };
    burst(40);
    const grown = m.capacity;
    assert.ok(grown >= 80);
    for (let round = 0; round < 200; round++) {
      burst(40);
      assert.equal(m.capacity, grown, `round ${round}: no grow-and-shrink per burst`);
    }
    burst(5000);
    for (let k = 0; k < 400_000; k++) burst(2);
    assert.ok(m.capacity <= 64, `after the quiet spell: ${m.capacity} slots`);
  });

  test('some() sees every live value', () => {
    const m = new IdMap<{ v: number }>();
    for (let k = 0; k < 100; k++) m.set(k * 7919, { v: k });
    for (let k = 0; k < 100; k += 2) m.delete(k * 7919);
    assert.ok(m.some((x) => x.v === 99));
    assert.ok(!m.some((x) => x.v === 98));
    assert.ok(!new IdMap().some(() => true));
  });

  test('churn does not chain garbage into the old generation (where Map forces full collections)', async () => {
    // Once a Map entry has been promoted, V8 keeps each replaced hash table alive through its
    // successor until the next full collection: the fixture sees about 7 with Map.
    const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-idmap-'));
    try {
      const out = join(dir, 'churn.mjs');
      await build({ entryPoints: [fileURLToPath(new URL('./fixtures/id-map-churn.ts', import.meta.url))], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'warning' });
      const { stdout } = await execFileP(process.execPath, [out]);
      const r = JSON.parse(stdout) as { map: number; idMap: number };
      assert.ok(r.idMap <= 2, `IdMap: ${r.idMap} full collections during the churn (Map: ${r.map})`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
