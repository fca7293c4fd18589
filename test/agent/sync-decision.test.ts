// The connect-time decision, rule by rule (engine-semantics.md, "On connect, decide by the
// first rule that matches"), and the symmetry both peers rely on: each side runs the decision
// on mirrored inputs and must reach the mirrored answer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mirror, resyncEndFixup } from '../../agent/sync-decision.js';
import { UUID_JUST_CREATED } from '../../agent/engine/uuid.js';
import { decideSync, type SideGi, type SyncDecision } from '../../agent/sync-decision.js';

const X = 0x1111_2222_3333_4444n;
const Y = 0x5555_6666_7777_8888n;
const Z = 0x9999_aaaa_bbbb_cccen;
const W = 0xdddd_eeee_ffff_0002n;

function side(nodeId: number, over: Partial<SideGi> = {}): SideGi {
  return { nodeId, current: X, bitmapForPeer: 0n, history: [], crashedPrimary: false, primaryNow: false, disk: 'UpToDate', ...over };
}

/** Rules 2/3 and 5/6 are each other's mirror image; the others mirror onto themselves. */
const MIRROR_RULE: Record<number, number> = { 2: 3, 3: 2, 5: 6, 6: 5 };

/** Decide from both ends and check that the two answers mirror each other. */
function both(a: SideGi, b: SideGi): SyncDecision {
  const d = decideSync(a, b);
  const m = mirror(d);
  const expected = m.kind === 'source' || m.kind === 'target' ? { ...m, rule: MIRROR_RULE[m.rule] ?? m.rule } : m;
  assert.deepEqual(decideSync(b, a), expected, 'the peer must reach the mirrored decision');
  return d;
}

describe('decideSync', () => {
  test('rule 1: both C = 4 → no sync, both stay Inconsistent', () => {
    const d = both(side(0, { current: UUID_JUST_CREATED, disk: 'Inconsistent' }), side(1, { current: UUID_JUST_CREATED, disk: 'Inconsistent' }));
    assert.deepEqual(d, { kind: 'none', rule: 1 });
  });

  test('rule 2: my C = 4 → SyncTarget, full, whatever the roles', () => {
    // Even when the blank node is Primary now (the seed article's trap): data never flows from a blank disk.
    const me = side(0, { current: UUID_JUST_CREATED, disk: 'Inconsistent', primaryNow: true });
    const d = both(me, side(1, { current: X }));
    assert.deepEqual(d, { kind: 'target', over: 'full', rule: 2 });
  });

  test('rule 2: the just-created value ignores the "was Primary" bit', () => {
    const d = decideSync(side(0, { current: UUID_JUST_CREATED | 1n, disk: 'Inconsistent' }), side(1, { current: X }));
    assert.deepEqual(d, { kind: 'target', over: 'full', rule: 2 });
  });

  test('rule 3: peer C = 4 → SyncSource, full', () => {
    const d = both(side(0, { current: X, disk: 'Outdated' }), side(1, { current: UUID_JUST_CREATED, disk: 'Inconsistent', primaryNow: true }));
    assert.deepEqual(d, { kind: 'source', over: 'full', rule: 3 });
  });

  test('rule 4: equal C → no sync', () => {
    assert.deepEqual(both(side(0), side(1)), { kind: 'none', rule: 4 });
  });

  test('rule 4: the "was Primary" bit is ignored when comparing C', () => {
    assert.deepEqual(both(side(0, { current: X | 1n }), side(1, { current: X })), { kind: 'none', rule: 4 });
  });

  test('rule 4 (crash): exactly one side crashed as Primary → it is source over its activity log', () => {
    const d = both(side(0, { crashedPrimary: true }), side(1));
    assert.deepEqual(d, { kind: 'source', over: 'activity-log', rule: 4 });
  });

  test('rule 4 (crash): the crashed side is target when the peer has been promoted since (failover)', () => {
    const d = both(side(0, { crashedPrimary: true }), side(1, { primaryNow: true }));
    assert.deepEqual(d, { kind: 'target', over: 'activity-log', rule: 4 });
  });

  test('rule 4 (crash): both crashed as Primary, neither Primary now → the lower node-id is source', () => {
    const d = both(side(0, { crashedPrimary: true }), side(1, { crashedPrimary: true }));
    assert.deepEqual(d, { kind: 'source', over: 'activity-log', rule: 4 });
    assert.deepEqual(decideSync(side(1, { crashedPrimary: true }), side(0, { crashedPrimary: true })), { kind: 'target', over: 'activity-log', rule: 4 });
  });

  test('rule 4 (crash): both crashed as Primary → the one Primary now is source, whatever its node-id', () => {
    const d = both(side(1, { crashedPrimary: true, primaryNow: true }), side(0, { crashedPrimary: true }));
    assert.deepEqual(d, { kind: 'source', over: 'activity-log', rule: 4 });
  });

  test('rule 5: my C equals the peer\'s B[me] → SyncTarget over the bitmap', () => {
    const d = both(side(0, { current: X }), side(1, { current: Y, bitmapForPeer: X, history: [] }));
    assert.deepEqual(d, { kind: 'target', over: 'bitmap', rule: 5 });
  });

  test('rule 5: the "was Primary" bit of my C does not hide the match', () => {
    const d = decideSync(side(0, { current: X | 1n }), side(1, { current: Y, bitmapForPeer: X }));
    assert.deepEqual(d, { kind: 'target', over: 'bitmap', rule: 5 });
  });

  test('rule 6: my B[peer] equals the peer\'s C → SyncSource over the bitmap', () => {
    const d = both(side(0, { current: Y, bitmapForPeer: X }), side(1, { current: X }));
    assert.deepEqual(d, { kind: 'source', over: 'bitmap', rule: 6 });
  });

  test('rule 7: my C is in the peer\'s history → SyncTarget, full', () => {
    const d = both(side(0, { current: X }), side(1, { current: Z, bitmapForPeer: 0n, history: [Y, X] }));
    assert.deepEqual(d, { kind: 'target', over: 'full', rule: 7 });
  });

  test('rule 7 (mirror): the peer\'s C is in my history → SyncSource, full', () => {
    const d = both(side(0, { current: Z, history: [Y, X] }), side(1, { current: X }));
    assert.deepEqual(d, { kind: 'source', over: 'full', rule: 7 });
  });

  test('rule 7: each C in the other\'s history is not rule 7 (falls through to split brain)', () => {
    const d = both(side(0, { current: X, history: [Y, W] }), side(1, { current: Y, history: [X, W] }));
    assert.deepEqual(d, { kind: 'split-brain', rule: 9, automatic: false });
  });

  test('rule 8: equal non-zero B on both sides → split brain, automatic policies may apply', () => {
    const d = both(side(0, { current: Y, bitmapForPeer: X }), side(1, { current: Z, bitmapForPeer: X }));
    assert.deepEqual(d, { kind: 'split-brain', rule: 8, automatic: true });
  });

  test('rule 9: histories share a non-zero entry → split brain, manual only', () => {
    const d = both(side(0, { current: Y, history: [W] }), side(1, { current: Z, history: [W] }));
    assert.deepEqual(d, { kind: 'split-brain', rule: 9, automatic: false });
  });

  test('rule 9: a shared 0 or 4 in the histories does not relate two disks', () => {
    const d = both(side(0, { current: Y, history: [0n, UUID_JUST_CREATED] }), side(1, { current: Z, history: [0n, UUID_JUST_CREATED] }));
    assert.deepEqual(d, { kind: 'unrelated', rule: 10 });
  });

  test('rule 10: nothing in common → unrelated data', () => {
    assert.deepEqual(both(side(0, { current: Y, bitmapForPeer: X }), side(1, { current: Z, bitmapForPeer: W, history: [W] })), { kind: 'unrelated', rule: 10 });
  });

  test('the first matching rule wins (rule 5 before rule 7)', () => {
    // My C is both the peer's bitmap base and in its history: a bitmap sync suffices.
    const d = both(side(0, { current: X }), side(1, { current: Y, bitmapForPeer: X, history: [X] }));
    assert.equal(d.kind === 'target' && d.rule, 5);
  });

  describe('post-processing: with no sync and exactly one side Inconsistent, the better disk is source', () => {
    test('equal C, I am Inconsistent and the peer UpToDate → SyncTarget, full', () => {
      const d = both(side(0, { disk: 'Inconsistent' }), side(1, { disk: 'UpToDate' }));
      assert.deepEqual(d, { kind: 'target', over: 'full', rule: 4 });
    });

    test('equal C, the peer is Inconsistent and I am Outdated → SyncSource, full', () => {
      const d = both(side(0, { disk: 'Outdated' }), side(1, { disk: 'Inconsistent' }));
      assert.deepEqual(d, { kind: 'source', over: 'full', rule: 4 });
    });

    test('rule 4 (crash): an Inconsistent side that crashed as Primary is not source over a side with data', () => {
      const d = both(side(0, { crashedPrimary: true, disk: 'Inconsistent' }), side(1, { crashedPrimary: true, disk: 'UpToDate' }));
      assert.deepEqual(d, { kind: 'target', over: 'activity-log', rule: 4 });
    });

    test('a bitmap rule that points from an Inconsistent side to one with data flips its direction', () => {
      const d = both(side(0, { current: Y, bitmapForPeer: X, disk: 'Inconsistent' }), side(1, { current: X, disk: 'Outdated' }));
      assert.deepEqual(d, { kind: 'target', over: 'bitmap', rule: 6 });
    });

    test('rule 3 from an Inconsistent side to a blank one stays (both without good data)', () => {
      const d = both(side(0, { disk: 'Inconsistent' }), side(1, { current: UUID_JUST_CREATED, disk: 'Inconsistent' }));
      assert.deepEqual(d, { kind: 'source', over: 'full', rule: 3 });
    });

    test('both Inconsistent → still no sync', () => {
      assert.deepEqual(both(side(0, { disk: 'Inconsistent' }), side(1, { disk: 'Inconsistent' })), { kind: 'none', rule: 4 });
    });

    test('rule 1 is not overridden: two blank disks stay blank', () => {
      const d = both(side(0, { current: UUID_JUST_CREATED, disk: 'Inconsistent' }), side(1, { current: UUID_JUST_CREATED, disk: 'Inconsistent' }));
      assert.equal(d.kind, 'none');
    });

    test('a peer without a disk is no better than an Inconsistent one', () => {
      assert.deepEqual(both(side(0, { disk: 'Inconsistent' }), side(1, { disk: 'Diskless' })), { kind: 'none', rule: 4 });
    });
  });

  describe('a resync whose end the source never had confirmed (its bitmap UUID kept)', () => {
    // The source S resynced the target under bitmap UUID X and kept X, the confirmation lost.
    const finished = (over: Partial<SideGi> = {}) => side(1, { current: Y, history: [X], ...over });

    test('the target never got the end: it is still at X → rule 6, over the bitmap', () => {
      const d = both(side(0, { current: Y, bitmapForPeer: X, history: [] }), side(1, { current: X, disk: 'Inconsistent' }));
      assert.deepEqual(d, { kind: 'source', over: 'bitmap', rule: 6 });
    });

    test('the target adopted S\'s generation: same C, the stale bitmap UUID is seen through → no sync', () => {
      assert.deepEqual(both(side(0, { current: Y, bitmapForPeer: X }), finished()), { kind: 'none', rule: 4 });
    });

    test('…and S wrote apart since (C moved on, the adopted one in its history) → rule 6 over the bitmap, not rule 7 full', () => {
      const d = both(side(0, { current: Z, bitmapForPeer: X, history: [Y] }), finished());
      assert.deepEqual(d, { kind: 'source', over: 'bitmap', rule: 6 });
    });

    test('…but a target that wrote on its own since is split brain as before', () => {
      const d = both(side(0, { current: Z, bitmapForPeer: X, history: [Y] }), finished({ current: W, bitmapForPeer: Y, history: [Y, X] }));
      assert.equal(d.kind, 'split-brain');
    });

    const table: Array<[string, SideGi, SideGi, bigint | undefined]> = [
      ['no bitmap UUID', side(0, { current: Y }), finished(), undefined],
      ['the peer never had X', side(0, { current: Y, bitmapForPeer: X }), side(1, { current: Y }), undefined],
      ['the peer finished at my C', side(0, { current: Y, bitmapForPeer: X }), finished(), 0n],
      ['the peer finished at a generation I left', side(0, { current: Z, bitmapForPeer: X, history: [Y] }), finished(), Y],
      ['the peer is at a generation I never had', side(0, { current: Z, bitmapForPeer: X, history: [Y] }), finished({ current: W }), undefined],
      ['the "was Primary" bit is ignored', side(0, { current: Y, bitmapForPeer: X | 1n }), finished({ current: Y | 1n }), 0n],
    ];
    for (const [what, me, peer, expected] of table) {
      test(`resyncEndFixup: ${what}`, () => assert.equal(resyncEndFixup(me, peer), expected));
    }
  });

  test('mirror swaps source and target and keeps everything else', () => {
    assert.deepEqual(mirror({ kind: 'source', over: 'bitmap', rule: 6 }), { kind: 'target', over: 'bitmap', rule: 6 });
    assert.deepEqual(mirror({ kind: 'split-brain', rule: 8, automatic: true }), { kind: 'split-brain', rule: 8, automatic: true });
    assert.deepEqual(mirror({ kind: 'none', rule: 4 }), { kind: 'none', rule: 4 });
  });
});
