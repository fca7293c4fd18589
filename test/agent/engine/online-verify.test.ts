// Online verify through the two-node simulation: acceptance case 15 of engine-semantics.md
// (blocks changed behind the engine's back are found, marked and reported; nothing moves
// until the operator reconnects), plus guards and verify under application writes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCK } from '../../../agent/engine/machine-types.js';
import { verifyDone } from '../../../agent/engine/online-verify.js';
import { createPrng } from '../../support/prng.js';
import { EngineSim, pattern, type NodeId } from '../../support/engine-sim.js';

const VOL = 4 << 20;

/** Connected, initial sync skipped, A Primary with some data. */
function pair(seed: number): EngineSim {
  const sim = new EngineSim({ seed, volumeBytes: VOL });
  sim.connect();
  sim.runUntilIdle();
  sim.ok(0, { cmd: 'new-current-uuid', clearBitmap: true });
  sim.runUntilIdle();
  sim.ok(0, { cmd: 'primary', force: false });
  const p = createPrng(seed);
  for (const b of [0, 3, 300, 700]) sim.write(0, 0, b * BLOCK, pattern(p, 2));
  sim.settle();
  return sim;
}

/** Changes blocks on a node's disk without the engine knowing (a bit flip, a stray dd). */
function corrupt(sim: EngineSim, node: NodeId, blocks: number[]): void {
  for (const b of blocks) sim.disk(node).fill(0xa5, b * BLOCK, b * BLOCK + 100);
}

describe('online verify', () => {
  test('case 15: n changed blocks → n × 4 KiB out of sync reported on both sides, nothing resynced until reconnect', () => {
    const sim = pair(151);
    const bad = [3, 255, 256, 900]; // two adjacent across the first 1 MiB chunk boundary
    corrupt(sim, 1, bad);
    const diskB = Buffer.from(sim.disk(1));
    sim.ok(0, { cmd: 'verify' });
    assert.equal(sim.engine(0).volumes[0]!.repl, 'VerifyS');
    for (let i = 0; i < 500 && sim.engine(1).volumes[0]!.repl !== 'VerifyT'; i++) sim.runEvents(1);
    assert.equal(sim.engine(1).volumes[0]!.repl, 'VerifyT');
    sim.settle();
    for (const n of [0, 1] as const) {
      const v = sim.engine(n).volumes[0]!;
      assert.equal(v.repl, 'Established');
      assert.equal(v.verifyMismatch, bad.length, `node ${n} counts the mismatches`);
      assert.equal(v.bitmap.weight, bad.length, 'exactly those blocks are out of sync');
      for (const b of bad) assert.ok(v.bitmap.test(b));
      assert.equal(sim.persisted(n).bitmap.weight, bad.length, 'the bits are persisted');
    }
    assert.ok(sim.logs(0).some((l) => l.text === `online verify of volume 0 done: ${bad.length * 4} KiB out of sync (${bad.length} blocks); resync them with disconnect + connect`));
    assert.ok(sim.disk(1).equals(diskB), 'nothing was resynced');
    // The operator's way: disconnect + connect resyncs exactly those blocks, A → B.
    const rx = sim.engine(1).volumes[0]!.stats.received;
    sim.ok(0, { cmd: 'disconnect' });
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    sim.settle();
    for (const n of [0, 1] as const) {
      const v = sim.engine(n).volumes[0]!;
      assert.equal(sim.engine(n).conn, 'Connected');
      assert.equal(v.disk, 'UpToDate');
      assert.equal(v.bitmap.weight, 0);
    }
    assert.equal(sim.engine(1).volumes[0]!.stats.received - rx, bad.length * BLOCK, 'only the mismatching blocks moved');
    assert.ok(sim.disk(0).equals(sim.disk(1)), 'B has A\'s data again');
  });

  test('a clean pair verifies with no mismatches; done grows as it goes', () => {
    const sim = pair(152);
    sim.ok(1, { cmd: 'verify' });
    const seen: number[] = [];
    for (let i = 0; i < 100_000 && sim.engine(1).volumes[0]!.verify; i++) {
      sim.runEvents(1);
      const d = verifyDone(sim.engine(1).volumes[0]!);
      if (d !== undefined && d !== seen[seen.length - 1]) seen.push(d);
    }
    assert.ok(seen.length >= 3, `progress reported: ${seen.join(', ')}`);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, 'done never goes back');
    sim.settle();
    for (const n of [0, 1] as const) {
      assert.equal(sim.engine(n).volumes[0]!.verifyMismatch, 0);
      assert.equal(sim.engine(n).volumes[0]!.bitmap.weight, 0);
    }
    assert.ok(sim.logs(1).some((l) => /done: no differences/.test(l.text)));
  });

  test('application writes during a verify cause no false mismatch', () => {
    for (const seed of [153, 154, 155, 156]) {
      const sim = pair(seed);
      corrupt(sim, 1, [500]);
      sim.ok(0, { cmd: 'verify' });
      const p = createPrng(seed);
      for (let i = 0; i < 40; i++) {
        sim.write(0, 0, (p.int(VOL / BLOCK - 2)) * BLOCK, pattern(p));
        sim.runEvents(3);
      }
      sim.settle();
      const v = sim.engine(0).volumes[0]!;
      // Block 500 may also have been rewritten by the application (then it is in sync again).
      assert.ok(v.verifyMismatch! <= 1, `seed ${seed}: ${v.verifyMismatch} mismatches`);
      assert.ok(sim.disk(0).equals(sim.disk(1)) === (v.verifyMismatch === 0), `seed ${seed}: mismatch count matches the data`);
    }
  });

  test('verify is refused when not connected, during a resync, or with a peer that is not UpToDate', () => {
    const sim = new EngineSim({ seed: 157, volumeBytes: VOL });
    assert.match(sim.admin(0, { cmd: 'verify' }).error ?? '', /Need a connection/);
    sim.connect();
    sim.runUntilIdle();
    assert.match(sim.admin(0, { cmd: 'verify' }).error ?? '', /Inconsistent/);
  });

  test('a lost connection ends the verify; bits found so far stay set', () => {
    const sim = pair(158);
    corrupt(sim, 1, [1]);
    sim.ok(0, { cmd: 'verify' });
    sim.runEvents(40);
    sim.cutLink();
    sim.runUntilIdle();
    const v = sim.engine(0).volumes[0]!;
    assert.equal(v.verify, undefined);
    assert.equal(v.repl, 'Off');
    assert.ok(sim.logs(0).some((l) => /online verify of volume 0 interrupted|done/.test(l.text)));
  });
});
