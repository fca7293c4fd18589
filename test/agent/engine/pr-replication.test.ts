// Persistent reservations as replicated metadata (pr-replication.ts and its wiring in
// machine.ts): driven directly through step() where one node is enough, and through the
// two-node simulation for replication, link loss, failover and the handshake.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitmap } from '../../../agent/engine/bitmap.js';
import { createEngine, step } from '../../../agent/engine/machine.js';
import { BLOCK, type Action, type EngineState, type HelloState, type VolumeMeta } from '../../../agent/engine/machine-types.js';
import { PERSISTENT_RESERVATION_MAX } from '../../../agent/engine/metadata.js';
import { createPrng } from '../../support/prng.js';
import { inSyncPair, pattern, type EngineSim, type NodeId } from '../../support/engine-sim.js';
import { formatUuid } from '../../../agent/engine/uuid.js';

const C1 = 0x1234_5678_9abc_def0n;
const BLOB_A = Buffer.from('{"generation":1,"registrations":{"iqn.a,i,0x01":"00000000000000aa"},"reservation":null}');
const BLOB_B = Buffer.from('{"generation":2,"registrations":{"iqn.a,i,0x01":"00000000000000aa"},"reservation":{"holder":"iqn.a,i,0x01","type":5}}');

function meta(over: Partial<VolumeMeta> = {}): VolumeMeta {
  return { gi: { current: C1, bitmap: 0n, history: [] }, disk: 'UpToDate', primary: false, crashedPrimary: false, peerOutdated: false, ...over };
}

function engine(m: VolumeMeta = meta(), nodeId = 0): EngineState {
  return createEngine({
    resource: 'r0',
    nodeId,
    peerNodeId: 1 - nodeId,
    protocol: 'C',
    maxRate: 100 << 20,
    ackTimeout: 5,
    now: 0,
    rng: createPrng(9),
    volumes: [{ volume: 0, dataBytes: 1 << 20, meta: m, bitmap: new Bitmap((1 << 20) / BLOCK) }],
  });
}

let nextId = 1000;
function save(s: EngineState, blob: Buffer, volume = 0): { id: number; out: Action[] } {
  const id = nextId++;
  return { id, out: step(s, { t: 'pr-save', id, volume, blob }) };
}

const prDone = (out: Action[], id: number) => out.find((a): a is Extract<Action, { a: 'pr-done' }> => a.a === 'pr-done' && a.id === id);
const persists = (out: Action[]) => out.filter((a): a is Extract<Action, { a: 'persist-meta' }> => a.a === 'persist-meta');

/** Completes every persist-meta in `out` (and those they lead to); returns all actions seen. */
function landMeta(s: EngineState, out: Action[]): Action[] {
  const seen: Action[] = [];
  let todo = persists(out);
  while (todo.length > 0) {
    const next: Action[] = [];
    for (const p of todo) next.push(...step(s, { t: 'meta-done', token: p.token }));
    seen.push(...next);
    todo = persists(next);
  }
  return seen;
}

function promotedAlone(): EngineState {
  const s = engine();
  step(s, { t: 'admin', req: 1, command: { cmd: 'primary', force: false } });
  // The Primary flag on disk first, as promotion asks.
  for (const [token] of s.metaWaits) step(s, { t: 'meta-done', token });
  return s;
}

function hello(over: Partial<HelloState>, pr?: Buffer, current = C1): HelloState {
  return {
    nodeId: 1,
    role: 'Secondary',
    discardMyData: false,
    volumes: [{ volume: 0, current: formatUuid(current), bitmap: formatUuid(0n), history: [], crashedPrimary: false, disk: 'UpToDate', dataBytes: 1 << 20, weight: 0, ...(pr ? { pr: pr.toString('base64') } : {}) }],
    ...over,
  };
}

/** A node that said connect and received the peer's handshake. */
function handshake(s: EngineState, peer: HelloState): Action[] {
  step(s, { t: 'admin', req: 2, command: { cmd: 'connect', discardMyData: false } });
  step(s, { t: 'link-up' });
  return step(s, { t: 'peer', msg: { type: 'hello-state', state: peer } });
}

const pr = (sim: EngineSim, n: NodeId) => sim.engine(n).volumes[0]!.meta.pr;
const persistedPr = (sim: EngineSim, n: NodeId) => sim.persisted(n).meta.pr;

/** ha-b Primary (the higher node-id, so that the "lower node-id wins" fallback would be wrong for it). */
function pairWithBPrimary(seed: number, protocol: 'A' | 'B' | 'C' = 'C'): EngineSim {
  const sim = inSyncPair({ seed, protocol });
  sim.ok(0, { cmd: 'secondary' });
  sim.runUntilIdle();
  sim.ok(1, { cmd: 'primary', force: false });
  sim.runUntilIdle();
  return sim;
}

describe('persistent reservations: one node', () => {
  test('refused on a Secondary, on a disk that is not UpToDate, and beyond what the superblock keeps', () => {
    const sec = engine();
    const a = save(sec, BLOB_A);
    assert.deepEqual(prDone(a.out, a.id), { a: 'pr-done', id: a.id, error: 'not Primary' });
    assert.equal(sec.volumes[0]!.meta.pr, undefined);
    assert.deepEqual(persists(a.out), [], 'nothing written');

    const p = promotedAlone();
    p.volumes[0]!.disk = 'Outdated';
    const b = save(p, BLOB_A);
    assert.equal(prDone(b.out, b.id)?.error, 'local disk is Outdated');

    const big = save(promotedAlone(), Buffer.alloc(PERSISTENT_RESERVATION_MAX + 1));
    assert.match(prDone(big.out, big.id)?.error ?? '', /exceeds the 1024 bytes metadata keeps/);
  });

  test('alone: done once the superblock holds it; the first change after the split starts a new generation', () => {
    const s = promotedAlone();
    assert.equal(s.volumes[0]!.newGenPending, true);
    const { id, out } = save(s, BLOB_A);
    const g = s.volumes[0]!.meta.gi;
    assert.notEqual(g.current, C1, 'a new current UUID, as for the first write');
    assert.equal(g.bitmap, C1, 'the old generation is the bitmap UUID: this node will be the sync source');
    assert.ok(!out.some((a) => a.a === 'send'), 'no peer to tell');
    assert.equal(prDone(out, id), undefined, 'not before the superblock is written');
    assert.deepEqual(s.volumes[0]!.meta.pr, BLOB_A);
    assert.equal(prDone(landMeta(s, out), id)?.error, undefined);
    assert.equal(s.prSaves.size, 0);

    // The generation is started once: a second change only writes the blob.
    const second = save(s, BLOB_B);
    assert.equal(s.volumes[0]!.meta.gi.current, g.current);
    assert.equal(persists(second.out).length, 1);
  });

  test('a write waits behind the new generation a reservation change started', () => {
    const s = promotedAlone();
    const { out } = save(s, BLOB_A);
    const w = step(s, { t: 'app-write', write: { id: 1, volume: 0, offset: 0, data: Buffer.alloc(BLOCK, 1), fua: false } });
    assert.ok(!w.some((a) => a.a === 'disk-write'), 'data waits for the new UUID to be durable');
    assert.ok(landMeta(s, out).some((a) => a.a === 'disk-write'));
  });
});

describe('persistent reservations: the handshake', () => {
  test('no resync: a Secondary adopts a Primary peer\'s blob and persists it', () => {
    const s = engine(meta({ pr: BLOB_A }));
    const out = handshake(s, hello({ role: 'Primary' }, BLOB_B));
    assert.equal(s.conn, 'Connected');
    assert.deepEqual(s.volumes[0]!.meta.pr, BLOB_B);
    assert.ok(persists(out).length > 0);
  });

  test('no resync: a Primary keeps its own blob, and a Primary without one does not take a Secondary\'s', () => {
    const s = promotedAlone();
    s.volumes[0]!.meta.pr = BLOB_A;
    handshake(s, hello({}, BLOB_B));
    assert.equal(s.conn, 'Connected');
    assert.deepEqual(s.volumes[0]!.meta.pr, BLOB_A);
    const bare = promotedAlone();
    handshake(bare, hello({}, BLOB_B));
    assert.equal(bare.volumes[0]!.meta.pr, undefined);
  });

  test('no resync, no Primary: the higher node-id adopts the lower one\'s (both sides agree)', () => {
    const low = engine(meta({ pr: BLOB_A }), 0);
    handshake(low, hello({ nodeId: 1 }, BLOB_B));
    assert.deepEqual(low.volumes[0]!.meta.pr, BLOB_A);
    const high = engine(meta({ pr: BLOB_B }), 1);
    handshake(high, hello({ nodeId: 0 }, BLOB_A));
    assert.deepEqual(high.volumes[0]!.meta.pr, BLOB_A);
  });

  test('the SyncTarget adopts its source\'s blob, none included', () => {
    // The peer's generation is ahead of ours (our C is its bitmap UUID): we are SyncTarget.
    const s = engine(meta({ pr: BLOB_A }));
    const peer = hello({ role: 'Primary' }, undefined, 0x7777_0000_0000_0001n);
    peer.volumes[0]!.bitmap = formatUuid(C1);
    handshake(s, peer);
    assert.equal(s.volumes[0]!.sync?.dir, 'target');
    assert.equal(s.volumes[0]!.meta.pr, undefined);
  });

  test('a disk replaced on the Secondary gets the blob with the full sync', () => {
    const sim = inSyncPair({ seed: 31 });
    const h = sim.prSave(0, 0, BLOB_A);
    sim.runUntilIdle();
    assert.ok(h.acked);
    sim.replaceDisk(1);
    assert.equal(pr(sim, 1), undefined);
    sim.settle();
    assert.deepEqual(pr(sim, 1), BLOB_A);
    assert.deepEqual(persistedPr(sim, 1), BLOB_A);
  });
});

describe('persistent reservations: replicated', () => {
  for (const protocol of ['C', 'A'] as const) {
    test(`protocol ${protocol}: the save completes only once the peer has the blob on disk and said so`, () => {
      const sim = inSyncPair({ seed: 11, protocol });
      sim.stallDisk(1, true);
      const h = sim.prSave(0, 0, BLOB_A);
      sim.runUntilIdle();
      assert.deepEqual(persistedPr(sim, 0), BLOB_A, 'on the Primary\'s disk');
      assert.equal(h.done, false, 'waiting for the peer, whatever the data protocol');
      assert.deepEqual(pr(sim, 1), BLOB_A, 'the peer has it in memory');
      assert.equal(persistedPr(sim, 1), undefined, '...but not on disk yet');
      sim.stallDisk(1, false);
      sim.runUntilIdle();
      assert.equal(h.acked, true);
      assert.deepEqual(persistedPr(sim, 1), BLOB_A);
    });
  }

  test('the save also waits for the Primary\'s own superblock', () => {
    const sim = inSyncPair({ seed: 12 });
    sim.stallDisk(0, true);
    const h = sim.prSave(0, 0, BLOB_A);
    sim.runUntilIdle();
    assert.deepEqual(persistedPr(sim, 1), BLOB_A, 'the peer has it');
    assert.equal(h.done, false);
    sim.stallDisk(0, false);
    sim.runUntilIdle();
    assert.equal(h.acked, true);
  });

  test('demote is refused while a save waits for the peer', () => {
    const sim = inSyncPair({ seed: 13 });
    sim.stallDisk(1, true);
    sim.prSave(0, 0, BLOB_A);
    sim.runUntilIdle();
    assert.match(sim.admin(0, { cmd: 'secondary' }).error ?? '', /in flight/);
    sim.stallDisk(1, false);
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'secondary' });
  });

  test('failover: an acknowledged save is on the survivor, which serves it as the new Primary', () => {
    const sim = inSyncPair({ seed: 14 });
    const h = sim.prSave(0, 0, BLOB_A);
    sim.runUntilIdle();
    assert.ok(h.acked);
    sim.crash(0, { connect: false });
    sim.runUntilIdle();
    sim.ok(1, { cmd: 'primary', force: false });
    assert.deepEqual(pr(sim, 1), BLOB_A);
    // The old Primary comes back and follows the new one.
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    const h2 = sim.prSave(1, 0, BLOB_B);
    sim.settle();
    assert.ok(h2.acked);
    assert.deepEqual(pr(sim, 0), BLOB_B);
  });

  test('a peer that is Primary itself does not take the blob', () => {
    const s = engine();
    const out = step(s, { t: 'peer', msg: { type: 'pr-set', volume: 0, id: 1, blob: BLOB_A } });
    assert.equal(s.volumes[0]!.meta.pr, BLOB_A, 'a Secondary takes it');
    assert.ok(landMeta(s, out).length === 0, 'no link: the ack is not sent');
    const p = promotedAlone();
    assert.deepEqual(step(p, { t: 'peer', msg: { type: 'pr-set', volume: 0, id: 2, blob: BLOB_A } }), []);
    assert.equal(p.volumes[0]!.meta.pr, undefined);
  });

  test('a blob larger than the superblock keeps is not taken from the peer, by message or at the handshake', () => {
    const big = Buffer.alloc(PERSISTENT_RESERVATION_MAX + 1, 0x41);
    const s = engine(meta({ pr: BLOB_A }));
    const out = step(s, { t: 'peer', msg: { type: 'pr-set', volume: 0, id: 1, blob: big } });
    assert.deepEqual(s.volumes[0]!.meta.pr, BLOB_A);
    assert.deepEqual(persists(out), []);
    assert.ok(out.some((a) => a.a === 'log' && a.level === 'alert'));
    handshake(s, hello({ role: 'Primary' }, big));
    assert.equal(s.conn, 'Connected');
    assert.deepEqual(s.volumes[0]!.meta.pr, BLOB_A);
  });
});

describe('persistent reservations: the peer is lost', () => {
  test('the link drops before the ack: the save completes and the change starts a new generation', () => {
    const sim = pairWithBPrimary(21);
    sim.stallNet(1, true); // the blob never leaves ha-b
    const h = sim.prSave(1, 0, BLOB_A);
    sim.runUntilIdle();
    assert.equal(h.done, false);
    const before = sim.engine(1).volumes[0]!.meta.gi.current;
    sim.cutLink();
    sim.runUntilIdle();
    assert.equal(h.acked, true, 'completes as a write does when its peer is lost');
    assert.notEqual(sim.engine(1).volumes[0]!.meta.gi.current, before, 'new generation at once');
    // Even demoted before the two meet again, ha-b is the sync source and ha-a adopts its blob.
    sim.ok(1, { cmd: 'secondary' });
    sim.stallNet(1, false);
    sim.restoreLink();
    sim.settle();
    assert.equal(sim.engine(0).conn, 'Connected');
    assert.deepEqual(pr(sim, 0), BLOB_A);
    assert.deepEqual(persistedPr(sim, 0), BLOB_A);
  });

  test('a change made apart with no data writes is not lost at reconnect, even after a demotion', () => {
    const sim = pairWithBPrimary(22);
    sim.cutLink();
    sim.runUntilIdle();
    const h = sim.prSave(1, 0, BLOB_B);
    sim.runUntilIdle();
    assert.ok(h.acked);
    sim.ok(1, { cmd: 'secondary' });
    sim.restoreLink();
    sim.settle();
    assert.deepEqual(pr(sim, 0), BLOB_B);
    assert.deepEqual(pr(sim, 1), BLOB_B);
  });

  test('a change apart, then data writes: one resync brings both', () => {
    const sim = inSyncPair({ seed: 23 });
    sim.cutLink();
    sim.runUntilIdle();
    sim.prSave(0, 0, BLOB_A);
    const w = sim.write(0, 0, 5 * BLOCK, pattern(createPrng(1)));
    sim.runUntilIdle();
    assert.ok(w.acked);
    sim.restoreLink();
    sim.settle();
    assert.deepEqual(pr(sim, 1), BLOB_A);
    assert.ok(sim.disk(0).equals(sim.disk(1)));
  });

  test('mid-handshake the blob goes to the peer (the hello already sent is not contradicted); a failed handshake starts the generation', () => {
    const s = promotedAlone();
    step(s, { t: 'admin', req: 2, command: { cmd: 'connect', discardMyData: false } });
    step(s, { t: 'link-up' });
    const { id, out } = save(s, BLOB_A);
    assert.equal(s.volumes[0]!.meta.gi.current, C1, 'the identifiers in our hello still hold');
    assert.ok(out.some((a) => a.a === 'send' && a.msg.type === 'pr-set'));
    landMeta(s, out);
    assert.equal(s.prSaves.get(id)?.peerDone, false);
    const lost = step(s, { t: 'link-down', reason: 'network-failure' });
    assert.ok(prDone(lost, id));
    assert.notEqual(s.volumes[0]!.meta.gi.current, C1);
    assert.equal(s.volumes[0]!.meta.gi.bitmap, C1);
  });

  test('a peer that never acknowledges is declared dead after the ack timeout', () => {
    const sim = inSyncPair({ seed: 24, ackTimeout: 2 });
    sim.stallNet(1, true);
    const h = sim.prSave(0, 0, BLOB_A);
    sim.runUntilIdle();
    sim.tick(1000);
    assert.equal(h.done, false);
    sim.tick(1500);
    assert.equal(h.acked, true);
    assert.ok(sim.logs(0).some((l) => /did not acknowledge a reservation change/.test(l.text)));
  });
});
