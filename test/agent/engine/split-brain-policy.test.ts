// Automatic split-brain policies: the pure verdict (split-brain-policy.ts), and acceptance
// case 7 of engine-semantics.md through the two-node simulation: each policy picks the
// documented victim, which becomes SyncTarget over the union of both bitmaps.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCK } from '../../../agent/engine/machine-types.js';
import { createPrng } from '../../support/prng.js';
import { type SbPolicies, type SbSide } from '../../../agent/engine/split-brain-policy.js';
import { EngineSim, inSyncPair, pattern, type NodeId } from '../../support/engine-sim.js';
import { resolveSplitBrain } from '../../../agent/engine/split-brain-policy.js';

const pol = (over: Partial<SbPolicies>): SbPolicies => ({ pri0: 'disconnect', pri1: 'disconnect', pri2: 'disconnect', ...over });
const side = (nodeId: number, over: Partial<SbSide> = {}): SbSide => ({ nodeId, primary: false, changes: 1, ...over });

/** Both sides' verdicts must name the same node. */
function verdicts(p: SbPolicies, a: SbSide, b: SbSide): 'a' | 'b' | 'none' {
  const va = resolveSplitBrain(p, a, b).victim;
  const vb = resolveSplitBrain(p, b, a).victim;
  const fromA = va === 'me' ? 'a' : va === 'peer' ? 'b' : 'none';
  const fromB = vb === 'me' ? 'b' : vb === 'peer' ? 'a' : 'none';
  assert.equal(fromA, fromB, 'both sides agree');
  return fromA;
}

describe('resolveSplitBrain (pure)', () => {
  test('defaults disconnect for 0, 1 and 2 Primaries', () => {
    const p = pol({});
    assert.equal(verdicts(p, side(0), side(1)), 'none');
    assert.equal(verdicts(p, side(0, { primary: true }), side(1)), 'none');
    assert.equal(verdicts(p, side(0, { primary: true }), side(1, { primary: true })), 'none');
  });

  test('discard-zero-changes: the side without changes; both changed → disconnect; neither → node-id tie-break', () => {
    const p = pol({ pri0: 'discard-zero-changes' });
    assert.equal(verdicts(p, side(0, { changes: 0 }), side(1, { changes: 5 })), 'a');
    assert.equal(verdicts(p, side(0, { changes: 5 }), side(1, { changes: 0 })), 'b');
    assert.equal(verdicts(p, side(0, { changes: 2 }), side(1, { changes: 5 })), 'none');
    assert.equal(verdicts(p, side(0, { changes: 0 }), side(1, { changes: 0 })), 'b');
  });

  test('discard-least-changes: fewer changed blocks lose; a tie goes against the higher node-id', () => {
    const p = pol({ pri0: 'discard-least-changes' });
    assert.equal(verdicts(p, side(0, { changes: 2 }), side(1, { changes: 5 })), 'a');
    assert.equal(verdicts(p, side(0, { changes: 9 }), side(1, { changes: 5 })), 'b');
    assert.equal(verdicts(p, side(0, { changes: 5 }), side(1, { changes: 5 })), 'b');
  });

  test('discard-younger-primary / discard-older-primary by promotion time; unknown time → disconnect', () => {
    const a = side(0, { promotedAt: 1000 });
    const b = side(1, { promotedAt: 5000 });
    assert.equal(verdicts(pol({ pri0: 'discard-younger-primary' }), a, b), 'b');
    assert.equal(verdicts(pol({ pri0: 'discard-older-primary' }), a, b), 'a');
    assert.equal(verdicts(pol({ pri0: 'discard-younger-primary' }), side(0), b), 'none');
  });

  test('discard-node-NAME names the victim by node-id', () => {
    assert.equal(verdicts(pol({ pri0: 'discard-node-ha-b', discardNodeId: 1 }), side(0), side(1)), 'b');
    assert.equal(verdicts(pol({ pri0: 'discard-node-ha-a', discardNodeId: 0 }), side(0), side(1)), 'a');
    assert.equal(verdicts(pol({ pri0: 'discard-node-x' }), side(0), side(1)), 'none');
  });

  test('1pri: discard-secondary; consensus only when 0pri would discard the Secondary too; call-pri-lost-after-sb = disconnect', () => {
    const prim = side(0, { primary: true, changes: 9 });
    const sec = side(1, { changes: 2 });
    assert.equal(verdicts(pol({ pri1: 'discard-secondary' }), prim, sec), 'b');
    assert.equal(verdicts(pol({ pri1: 'consensus', pri0: 'discard-least-changes' }), prim, sec), 'b');
    assert.equal(verdicts(pol({ pri1: 'consensus', pri0: 'discard-least-changes' }), side(0, { primary: true, changes: 1 }), sec), 'none');
    assert.equal(verdicts(pol({ pri1: 'consensus' }), prim, sec), 'none');
    const v = resolveSplitBrain(pol({ pri1: 'call-pri-lost-after-sb' }), prim, sec);
    assert.equal(v.victim, 'none');
    assert.match(v.why, /treated as disconnect/);
  });

  test('2pri: call-pri-lost-after-sb is treated as disconnect, and says so', () => {
    const v = resolveSplitBrain(pol({ pri2: 'call-pri-lost-after-sb' }), side(0, { primary: true }), side(1, { primary: true }));
    assert.equal(v.victim, 'none');
    assert.match(v.why, /treated as disconnect/);
  });
});

// ------------------------------------------------------------------ case 7 in the simulation

function writeBlocks(sim: EngineSim, node: NodeId, blocks: number[], seed: number): void {
  const p = createPrng(seed);
  for (const b of blocks) sim.write(node, 0, b * BLOCK, pattern(p));
}

/**
 * Connected pair (A Primary), then the link is cut; B is promoted later than A; A writes
 * aBlocks, B writes bBlocks; `roles` says who is still Primary when the link comes back.
 * Returns the sim after the handshake, plus ledger marks of each side's split-brain writes.
 */
function splitBrain(seed: number, policies: SbPolicies, aBlocks: number[], bBlocks: number[], roles: { a: boolean; b: boolean }): { sim: EngineSim; marks: [number, number] } {
  const sim = new EngineSim({ seed });
  for (const n of [0, 1] as const) sim.engine(n).afterSb = policies;
  sim.connect();
  sim.runUntilIdle();
  sim.ok(0, { cmd: 'new-current-uuid', clearBitmap: true });
  sim.runUntilIdle();
  sim.tick(1000);
  sim.ok(0, { cmd: 'primary', force: false });
  writeBlocks(sim, 0, [1, 2], 1);
  sim.runUntilIdle();
  sim.cutLink();
  sim.tick(1000);
  sim.ok(1, { cmd: 'primary', force: false });
  const markA = sim.writeMark();
  writeBlocks(sim, 0, aBlocks, 100);
  const markB = sim.writeMark();
  writeBlocks(sim, 1, bBlocks, 200);
  sim.runUntilIdle();
  if (!roles.a) sim.ok(0, { cmd: 'secondary' });
  if (!roles.b) sim.ok(1, { cmd: 'secondary' });
  sim.runUntilIdle();
  return { sim, marks: [markA, markB] };
}

function expectVictim(sim: EngineSim, victim: NodeId, marks: [number, number], union: number): void {
  const survivor = (1 - victim) as NodeId;
  // The victim's split-brain writes are thrown away by design.
  sim.discardWrites(victim, marks[victim]);
  sim.stallDisk(victim, true);
  sim.restoreLink();
  sim.runUntilIdle();
  assert.equal(sim.engine(victim).volumes[0]!.repl, 'SyncTarget', 'the victim is SyncTarget');
  assert.equal(sim.engine(survivor).volumes[0]!.repl, 'SyncSource');
  assert.equal(sim.engine(victim).volumes[0]!.sync!.total, union, 'over the union of both bitmaps, not a full sync');
  assert.ok(sim.logs(victim).some((l) => /automatically resolved/.test(l.text)), 'the resolution is reported');
  assert.equal(sim.sbCopies(victim).length, 1, 'the victim kept its diverging blocks before the resync');
  assert.equal(sim.sbCopies(survivor).length, 0);
  sim.stallDisk(victim, false);
  sim.settle();
  for (const n of [0, 1] as const) {
    assert.equal(sim.engine(n).conn, 'Connected');
    assert.equal(sim.engine(n).volumes[0]!.disk, 'UpToDate');
    assert.equal(sim.engine(n).splitBrain, false);
  }
  assert.ok(sim.disk(0).equals(sim.disk(1)), 'the victim holds the survivor\'s data');
  assert.deepEqual(sim.ledgerMismatches(survivor, 0), [], 'the survivor kept all its writes');
}

describe('case 7: automatic split-brain policies pick the documented victim', () => {
  test('discard-least-changes: A wrote 2 blocks, B 3 → A is discarded', () => {
    const { sim, marks } = splitBrain(71, pol({ pri0: 'discard-least-changes' }), [10, 11], [20, 21, 11], { a: false, b: false });
    expectVictim(sim, 0, marks, 4);
  });

  test('discard-younger-primary: B became Primary after A → B is discarded', () => {
    const { sim, marks } = splitBrain(72, pol({ pri0: 'discard-younger-primary' }), [10, 11, 12], [20], { a: false, b: false });
    expectVictim(sim, 1, marks, 4);
  });

  test('discard-older-primary: A became Primary first → A is discarded', () => {
    const { sim, marks } = splitBrain(73, pol({ pri0: 'discard-older-primary' }), [10], [20, 21], { a: false, b: false });
    expectVictim(sim, 0, marks, 3);
  });

  test('discard-secondary (1pri): A still Primary → the Secondary B is discarded', () => {
    const { sim, marks } = splitBrain(74, pol({ pri1: 'discard-secondary' }), [10], [20, 21, 22, 23], { a: true, b: false });
    expectVictim(sim, 1, marks, 5);
  });

  test('discard-node-ha-a: the named node is discarded', () => {
    const { sim, marks } = splitBrain(75, pol({ pri0: 'discard-node-ha-a', discardNodeId: 0 }), [10, 11, 12], [20], { a: false, b: false });
    expectVictim(sim, 0, marks, 4);
  });

  test('discard-zero-changes: a node forced Primary that wrote nothing is discarded', () => {
    const sim = inSyncPair({ seed: 76 }, (fresh) => {
      for (const n of [0, 1] as const) fresh.engine(n).afterSb = pol({ pri0: 'discard-zero-changes' });
    });
    // B leaves gracefully (Outdated), A writes, B is forced Primary alone: a new generation
    // on both sides (rule 8), but B changed nothing.
    sim.ok(1, { cmd: 'disconnect' });
    sim.runUntilIdle();
    writeBlocks(sim, 0, [5, 6], 300);
    sim.runUntilIdle();
    sim.ok(1, { cmd: 'primary', force: true });
    sim.ok(1, { cmd: 'secondary' });
    sim.ok(0, { cmd: 'secondary' });
    sim.runUntilIdle();
    sim.ok(1, { cmd: 'connect', discardMyData: false });
    sim.runUntilIdle();
    sim.settle();
    assert.ok(sim.logs(1).some((l) => /automatically resolved.*this node made no changes/.test(l.text)), JSON.stringify(sim.logs(1)));
    for (const n of [0, 1] as const) {
      assert.equal(sim.engine(n).conn, 'Connected');
      assert.equal(sim.engine(n).volumes[0]!.disk, 'UpToDate');
    }
    assert.ok(sim.disk(0).equals(sim.disk(1)), 'B got A\'s writes');
  });

  test('both changed under discard-zero-changes → split brain stays, both StandAlone, nothing moves', () => {
    const { sim } = splitBrain(77, pol({ pri0: 'discard-zero-changes' }), [10], [20], { a: false, b: false });
    const before = [Buffer.from(sim.disk(0)), Buffer.from(sim.disk(1))];
    sim.restoreLink();
    sim.settle();
    for (const n of [0, 1] as const) {
      assert.equal(sim.engine(n).conn, 'StandAlone');
      assert.equal(sim.engine(n).splitBrain, true);
      assert.ok(sim.disk(n).equals(before[n]!));
    }
    assert.ok(sim.logs(0).some((l) => /no automatic recovery \(discard-zero-changes: both nodes changed/.test(l.text)));
  });

  test('different policies in the two resource files → no automatic recovery', () => {
    const { sim } = splitBrain(78, pol({ pri0: 'discard-least-changes' }), [10], [20, 21], { a: false, b: false });
    sim.engine(1).afterSb = pol({ pri0: 'discard-younger-primary' });
    sim.restoreLink();
    sim.settle();
    for (const n of [0, 1] as const) assert.equal(sim.engine(n).splitBrain, true);
    assert.ok(sim.logs(0).some((l) => /policies differ/.test(l.text)));
  });
});
