// The replication machine: guards and transitions driven directly through step(), and the
// acceptance cases of engine-semantics.md driven through the two-node simulation
// (test/support/engine-sim.ts), checking data by what a reader of each disk would see.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitmap } from '../../../agent/engine/bitmap.js';
import { createEngine, step, syncDone, syncEta, type EngineInit } from '../../../agent/engine/machine.js';
import { BLOCK, type Action, type EngineState, type Input, type VolumeMeta } from '../../../agent/engine/machine-types.js';
import { createPrng } from '../../support/prng.js';
import { EngineSim, freshMeta, inSyncPair, pattern, type NodeId, type SimOptions } from '../../support/engine-sim.js';
import { UUID_JUST_CREATED, uuidEq } from '../../../agent/engine/uuid.js';

const MiB = 1 << 20;
const C1 = 0x1234_5678_9abc_def0n;

// ------------------------------------------------------------------ direct helpers

function upToDateMeta(current = C1): VolumeMeta {
  return { gi: { current, bitmap: 0n, history: [] }, disk: 'UpToDate', primary: false, crashedPrimary: false, peerOutdated: false };
}

function engine(meta: VolumeMeta = upToDateMeta(), over: Partial<EngineInit> = {}): EngineState {
  return createEngine({
    resource: 'r0',
    nodeId: 0,
    peerNodeId: 1,
    protocol: 'C',
    maxRate: 100 * MiB,
    ackTimeout: 5,
    now: 0,
    rng: createPrng(42),
    volumes: [{ volume: 0, dataBytes: MiB, meta, bitmap: new Bitmap(MiB / BLOCK) }],
    ...over,
  });
}

let req = 1;
function admin(s: EngineState, command: Extract<Input, { t: 'admin' }>['command']): { error: string | undefined; actions: Action[] } {
  const r = req++;
  const actions = step(s, { t: 'admin', req: r, command });
  const reply = actions.find((a): a is Extract<Action, { a: 'reply' }> => a.a === 'reply' && a.req === r);
  assert.ok(reply, `no reply to ${command.cmd}`);
  return { error: reply.error, actions };
}

function kinds(actions: Action[]): string[] {
  return actions.map((a) => a.a);
}

// ------------------------------------------------------------------ sim helpers

function newSim(seed: number, over: Partial<SimOptions> = {}): EngineSim {
  return new EngineSim({ seed, ...over });
}

/** Both fresh, connected, initial sync skipped; A Primary. */
function pair(seed: number, over: Partial<SimOptions> = {}): EngineSim {
  const sim = inSyncPair({ seed, ...over });
  assertState(sim, 0, { role: 'Primary', conn: 'Connected', disk: 'UpToDate', repl: 'Established', peerDisk: 'UpToDate' });
  assertState(sim, 1, { role: 'Secondary', conn: 'Connected', disk: 'UpToDate', repl: 'Established', peerDisk: 'UpToDate' });
  return sim;
}

function assertState(sim: EngineSim, node: NodeId, want: Partial<{ role: string; conn: string; disk: string; repl: string; peerDisk: string }>, volume = 0): void {
  const e = sim.engine(node);
  const v = e.volumes[volume]!;
  const got = { role: e.role, conn: e.conn, disk: v.disk, repl: v.repl, peerDisk: v.peerDisk };
  const picked = Object.fromEntries(Object.keys(want).map((k) => [k, got[k as keyof typeof got]]));
  assert.deepEqual(picked, want, `${node === 0 ? 'ha-a' : 'ha-b'}: ${JSON.stringify(got)}`);
}

/** Everything the replication promises, checked on the data. */
function assertConverged(sim: EngineSim, volume = 0): void {
  assert.ok(sim.disk(0, volume).equals(sim.disk(1, volume)), 'both disks hold the same data');
  assert.deepEqual(sim.ledgerMismatches(0, volume), [], 'ha-a holds every acknowledged write');
  assert.deepEqual(sim.ledgerMismatches(1, volume), [], 'ha-b holds every acknowledged write');
  for (const n of [0, 1] as const) assert.equal(sim.engine(n).volumes[volume]!.bitmap.weight, 0, 'no block left out of sync');
}

function gi(sim: EngineSim, node: NodeId, volume = 0): { current: bigint; bitmap: bigint; history: bigint[] } {
  return sim.engine(node).volumes[volume]!.meta.gi;
}

/** Write `count` single blocks at the given block numbers on node; returns the handles. */
function writeBlocks(sim: EngineSim, node: NodeId, blocks: number[], seed = 7): ReturnType<EngineSim['write']>[] {
  const p = createPrng(seed);
  return blocks.map((b) => sim.write(node, 0, b * BLOCK, pattern(p)));
}

/** Resync traffic while `run` runs, in blocks received by either node (resync replies and writes). */
function countResyncBlocks(sim: EngineSim, run: () => void): number {
  const received = (): number => sim.engine(0).volumes[0]!.stats.received + sim.engine(1).volumes[0]!.stats.received;
  const before = received();
  run();
  return (received() - before) / BLOCK;
}

// ================================================================== guards (pure)

describe('guards', () => {
  test('promote needs UpToDate data or --force', () => {
    const s = engine(freshMeta());
    assert.equal(admin(s, { cmd: 'primary', force: false }).error, 'Need access to UpToDate data');
    assert.equal(s.role, 'Secondary');
    const outdated = engine({ ...upToDateMeta(), disk: 'Outdated' });
    assert.equal(admin(outdated, { cmd: 'primary', force: false }).error, 'Need access to UpToDate data');
  });

  test('primary --force on an Inconsistent node starts a new generation at once, persisted', () => {
    const s = engine(freshMeta());
    const { error, actions } = admin(s, { cmd: 'primary', force: true });
    assert.equal(error, undefined);
    assert.equal(s.role, 'Primary');
    const v = s.volumes[0]!;
    assert.equal(v.disk, 'UpToDate');
    assert.ok(!uuidEq(v.meta.gi.current, UUID_JUST_CREATED));
    assert.equal(v.meta.gi.current & 1n, 1n, 'the "was Primary" bit is set');
    assert.equal(v.meta.primary, true);
    assert.ok(kinds(actions).includes('persist-meta'));
  });

  test('promote of an UpToDate node while alone: no new UUID until the first write (lazy)', () => {
    const s = engine();
    const promoted = admin(s, { cmd: 'primary', force: false }).actions;
    assert.equal(s.volumes[0]!.meta.gi.current, C1, 'promotion alone does not change C');
    assert.equal(s.volumes[0]!.newGenPending, true);
    // A write before the Primary flag is durable waits for it (a crash must be recognisable).
    const early = step(s, { t: 'app-write', write: { id: 1, volume: 0, offset: 0, data: Buffer.alloc(BLOCK, 1), fua: false } });
    assert.deepEqual(early, []);
    assert.equal(s.volumes[0]!.meta.gi.current, C1);
    const flag = promoted.find((a): a is Extract<Action, { a: 'persist-meta' }> => a.a === 'persist-meta')!;
    // Once it is: first write → new C, B[peer] = old C, and the write waits for that to be durable.
    const acts = step(s, { t: 'meta-done', token: flag.token });
    const g = s.volumes[0]!.meta.gi;
    assert.ok(!uuidEq(g.current, C1));
    assert.equal(g.bitmap, C1);
    assert.deepEqual(kinds(acts), ['persist-meta'], 'no data before the new generation is on disk');
    const tok = (acts[0] as Extract<Action, { a: 'persist-meta' }>).token;
    const after = step(s, { t: 'meta-done', token: tok });
    assert.ok(kinds(after).includes('disk-write'));
    assert.equal(s.volumes[0]!.bitmap.weight, 1, 'a write without a peer is out of sync for it');
  });

  test('demote and down are refused while the device is held open', () => {
    const s = engine();
    admin(s, { cmd: 'primary', force: false });
    step(s, { t: 'open', delta: 1 });
    assert.equal(admin(s, { cmd: 'secondary' }).error, 'Device is held open by someone');
    assert.equal(admin(s, { cmd: 'down' }).error, 'Device is held open by someone');
    assert.equal(s.role, 'Primary');
    step(s, { t: 'open', delta: -1 });
    assert.equal(admin(s, { cmd: 'secondary' }).error, undefined);
    assert.equal(s.role, 'Secondary');
    assert.equal(s.volumes[0]!.meta.primary, false);
  });

  test('connect --discard-my-data is refused while Primary', () => {
    const s = engine();
    admin(s, { cmd: 'primary', force: false });
    assert.match(admin(s, { cmd: 'connect', discardMyData: true }).error ?? '', /Refusing to discard my data while Primary/);
    assert.equal(s.conn, 'StandAlone');
  });

  test('writes are refused on a Secondary', () => {
    const s = engine();
    const acts = step(s, { t: 'app-write', write: { id: 9, volume: 0, offset: 0, data: Buffer.alloc(BLOCK), fua: false } });
    assert.deepEqual(acts, [{ a: 'write-done', id: 9, error: 'not Primary' }]);
  });

  test('writes beyond the end of the device are refused', () => {
    const s = engine();
    admin(s, { cmd: 'primary', force: false });
    const acts = step(s, { t: 'app-write', write: { id: 3, volume: 0, offset: MiB - BLOCK, data: Buffer.alloc(2 * BLOCK), fua: false } });
    assert.deepEqual(acts, [{ a: 'write-done', id: 3, error: 'beyond the end of the device' }]);
  });

  test('new-current-uuid --clear-bitmap needs a connected peer', () => {
    const s = engine(freshMeta());
    assert.match(admin(s, { cmd: 'new-current-uuid', clearBitmap: true }).error ?? '', /needs a connected peer/);
    assert.match(admin(s, { cmd: 'new-current-uuid', clearBitmap: false }).error ?? '', /Only new-current-uuid --clear-bitmap/);
  });

  test('connect starts the link; disconnect stops it', () => {
    const s = engine();
    const c = admin(s, { cmd: 'connect', discardMyData: false });
    assert.equal(s.conn, 'Connecting');
    assert.ok(c.actions.some((a) => a.a === 'link' && a.op === 'start'));
    const d = admin(s, { cmd: 'disconnect' });
    assert.equal(s.conn, 'StandAlone');
    assert.ok(d.actions.some((a) => a.a === 'link' && a.op === 'stop'));
  });

  test('a failing handshake is the reason shown while Connecting; only disconnect makes it StandAlone', () => {
    const s = engine();
    admin(s, { cmd: 'connect', discardMyData: false });
    const out = step(s, { t: 'link-problem', text: 'authentication failed from 10.77.0.12' });
    assert.equal(s.conn, 'Connecting');
    assert.equal(s.lastError, 'authentication failed from 10.77.0.12');
    assert.deepEqual(kinds(out), ['log']);
    assert.match((out[0] as Extract<Action, { a: 'log' }>).text, /net\.shared-secret.*keeps trying/);
    // A link that went down for any reason goes on Connecting, the reason kept.
    step(s, { t: 'link-down', reason: 'auth-failed' });
    assert.equal(s.conn, 'Connecting');
    admin(s, { cmd: 'disconnect' });
    assert.equal(s.conn, 'StandAlone');
    // StandAlone, nothing the link says changes the state or the reason.
    assert.deepEqual(step(s, { t: 'link-problem', text: 'authentication failed from 10.77.0.99' }), []);
    assert.equal(s.conn, 'StandAlone');
  });

  test('a link that comes up while the node does not want it is dropped', () => {
    const s = engine();
    assert.deepEqual(step(s, { t: 'link-up' }), [{ a: 'link', op: 'drop' }]);
  });

  test('a freshly created volume comes up Inconsistent whatever its meta says', () => {
    const s = engine({ ...freshMeta(), disk: 'UpToDate' });
    assert.equal(s.volumes[0]!.disk, 'Inconsistent');
  });

  test('pause-sync without a resync is refused', () => {
    assert.equal(admin(engine(), { cmd: 'pause-sync' }).error, 'No resync in progress');
  });

  test('syncDone and syncEta are undefined without a resync', () => {
    const v = engine().volumes[0]!;
    assert.equal(syncDone(v), undefined);
    assert.equal(syncEta(v), undefined);
  });
});

describe('guards (connected, through the simulation)', () => {
  test('single Primary: "Multiple primaries not allowed by config"', () => {
    const sim = pair(1);
    assert.deepEqual(sim.admin(1, { cmd: 'primary', force: false }), { ok: false, error: 'Multiple primaries not allowed by config' });
    assert.deepEqual(sim.admin(1, { cmd: 'primary', force: true }), { ok: false, error: 'Multiple primaries not allowed by config' });
    assertState(sim, 1, { role: 'Secondary' });
  });

  test('switchover: demote A, then B may be promoted', () => {
    const sim = pair(2);
    sim.ok(0, { cmd: 'secondary' });
    sim.runUntilIdle();
    sim.ok(1, { cmd: 'primary', force: false });
    sim.runUntilIdle();
    assertState(sim, 0, { role: 'Secondary', peerDisk: 'UpToDate' });
    assertState(sim, 1, { role: 'Primary', conn: 'Connected' });
    assert.equal(sim.engine(0).peerRole, 'Primary');
  });

  test('force-primary is refused over a connected peer with good data', () => {
    const sim = newSim(3);
    sim.connect();
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'primary', force: true });
    sim.settle();
    sim.ok(0, { cmd: 'secondary' });
    sim.runUntilIdle();
    // B gets a blank disk; while it is SyncTarget, forcing it would make a blank disk the source.
    sim.stallDisk(1, true);
    sim.replaceDisk(1);
    sim.runUntilIdle();
    assertState(sim, 1, { repl: 'SyncTarget', disk: 'Inconsistent', peerDisk: 'UpToDate' });
    const r = sim.admin(1, { cmd: 'primary', force: true });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /Refusing to force Primary: the peer has UpToDate data/);
  });

  test('both Outdated and connected with nothing to sync: either may be forced, and the other follows', () => {
    const sim = pair(6);
    const [h] = writeBlocks(sim, 0, [3]);
    sim.runUntilIdle();
    assert.equal(h!.acked, true);
    sim.ok(0, { cmd: 'secondary' });
    sim.runUntilIdle();
    // Both records of being UpToDate lost (the seed-1149 schedule: a stalled disk, then crashes).
    for (const n of [0, 1] as const) {
      sim.persisted(n).meta.disk = 'Outdated';
      sim.crash(n, { connect: false });
    }
    sim.connect();
    sim.settle();
    for (const n of [0, 1] as const) assertState(sim, n, { role: 'Secondary', conn: 'Connected', disk: 'Outdated', repl: 'Established', peerDisk: 'Outdated' });
    assert.equal(sim.admin(1, { cmd: 'primary', force: false }).error, 'Need access to UpToDate data');
    sim.ok(1, { cmd: 'primary', force: true });
    sim.settle();
    assertState(sim, 1, { role: 'Primary', disk: 'UpToDate', peerDisk: 'UpToDate' });
    assertState(sim, 0, { role: 'Secondary', disk: 'UpToDate', repl: 'Established' });
    assert.deepEqual(sim.ledgerMismatches(1), [], 'the acknowledged write is there');
  });

  test('a write that fails on the peer\'s disk: the peer is Outdated, the range out of sync, and the next connect resyncs it', () => {
    const sim = pair(8);
    sim.failDiskWrites(1, true);
    const [h] = writeBlocks(sim, 0, [5]);
    sim.runUntilIdle();
    assert.equal(h!.acked, true, 'the Primary\'s disk has it: acknowledged');
    assertState(sim, 1, { disk: 'Outdated', repl: 'Established' });
    assertState(sim, 0, { peerDisk: 'Outdated' });
    assert.ok(sim.engine(0).volumes[0]!.bitmap.weight > 0 && sim.engine(1).volumes[0]!.bitmap.weight > 0, 'out of sync on both sides');
    assert.ok(sim.logs(1).some((l) => l.level === 'alert' && /write failed/.test(l.text)));
    // A failing disk fails every write: one alert every few seconds, counting the rest.
    writeBlocks(sim, 0, [30, 31, 32]);
    sim.runUntilIdle();
    const alerts = () => sim.logs(1).filter((l) => /write failed/.test(l.text));
    assert.equal(alerts().length, 1);
    sim.tick(6000);
    writeBlocks(sim, 0, [33]);
    sim.runUntilIdle();
    assert.match(alerts()[1]?.text ?? '', /and 3 more failed writes since the last alert/);
    // Without the write it must not take over.
    assert.equal(sim.admin(1, { cmd: 'primary', force: false }).error, 'Multiple primaries not allowed by config');
    sim.crash(0, { connect: false });
    sim.runUntilIdle();
    assert.equal(sim.admin(1, { cmd: 'primary', force: false }).error, 'Need access to UpToDate data');
    sim.failDiskWrites(1, false);
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    sim.settle();
    sim.ok(0, { cmd: 'primary', force: false });
    sim.settle();
    assertState(sim, 1, { disk: 'UpToDate', repl: 'Established' });
    assert.deepEqual(sim.ledgerMismatches(1), [], 'the resync brought the write');
  });

  test('a write that fails on the Primary\'s disk fails, and the range is out of sync until the disks agree again', () => {
    const sim = pair(9);
    sim.failDiskWrites(0, true);
    const [h] = writeBlocks(sim, 0, [7]);
    sim.runUntilIdle();
    assert.equal(h!.acked, false);
    assert.ok(h!.error);
    assert.ok(sim.engine(0).volumes[0]!.bitmap.weight > 0, 'the peer may have it: out of sync');
    sim.failDiskWrites(0, false);
    sim.cutLink();
    sim.runUntilIdle();
    sim.restoreLink();
    sim.settle();
    assertState(sim, 1, { disk: 'UpToDate', repl: 'Established' });
    assert.ok(sim.disk(0).equals(sim.disk(1)), 'one copy again');
  });

  test('a write that fails on the Primary\'s disk completes only once the peer is done with its payload', () => {
    // The payload buffer is the application's again at write-done: the frame on the peer link
    // must no longer read it then.
    const sim = pair(9);
    sim.failDiskWrites(0, true);
    sim.stallNet(1, true);
    const [h] = writeBlocks(sim, 0, [7]);
    sim.runUntilIdle();
    assert.equal(h!.done, false, 'no write-done while the peer has not acknowledged the frame');
    sim.stallNet(1, false);
    sim.runUntilIdle();
    assert.equal(h!.done, true);
    assert.ok(h!.error, 'still a failed write');
    assert.ok(sim.engine(0).volumes[0]!.bitmap.test(7), 'the peer\'s acknowledgement does not clear the bits of a failed write');
  });

  /** Block `block` written through node 0, then an application flush on node 0 while `node`'s disk fails flushes; done. */
  function flushFailingOn(seed: number, node: 0 | 1, block: number) {
    const sim = pair(seed);
    writeBlocks(sim, 0, [block]);
    sim.runUntilIdle();
    sim.failDiskFlushes(node, true);
    const f = sim.flush(0);
    sim.runUntilIdle();
    assert.equal(f.done, true);
    return { sim, f };
  }

  test('a flush that fails on the Primary\'s disk fails, and what it covered is out of sync on both nodes', () => {
    const { sim, f } = flushFailingOn(10, 0, 3);
    assert.match(f.error ?? '', /Input\/output error/, 'SYNCHRONIZE CACHE must not return GOOD');
    for (const n of [0, 1] as const) assert.ok(sim.engine(n).volumes[0]!.bitmap.test(3), `out of sync on ${n}`);
    assert.ok(sim.logs(0).some((l) => l.level === 'alert' && /flush \(fdatasync\) failed/.test(l.text)));
    // Covered once: the failed flush took its extents along, so the next one has nothing of it left to lose.
    assert.equal(sim.engine(0).volumes[0]!.unflushed.size, 0);
    sim.failDiskFlushes(0, false);
    const g = sim.flush(0);
    sim.runUntilIdle();
    assert.equal(g.error, undefined);
  });

  test('a flush that fails on the peer\'s disk outdates the peer; the Primary\'s flush completes on its own disk', () => {
    const { sim, f } = flushFailingOn(11, 1, 4);
    assert.equal(f.error, undefined);
    assertState(sim, 1, { disk: 'Outdated' });
    assertState(sim, 0, { peerDisk: 'Outdated' });
    for (const n of [0, 1] as const) assert.ok(sim.engine(n).volumes[0]!.bitmap.test(4), `out of sync on ${n}`);
    sim.failDiskFlushes(1, false);
    sim.ok(1, { cmd: 'disconnect' });
    sim.runUntilIdle();
    sim.ok(1, { cmd: 'connect', discardMyData: false });
    sim.settle();
    assertState(sim, 1, { disk: 'UpToDate', repl: 'Established' });
  });

  test('a metadata write that fails is not taken as persisted: the writes behind a new generation are refused and the disk is Failed', () => {
    const sim = pair(12);
    sim.cutLink();
    sim.runUntilIdle();
    const before = sim.persisted(0).meta.gi.current;
    sim.failMetaWrites(0, true);
    // The first write apart starts a new generation, which must be on disk before the data.
    const [h] = writeBlocks(sim, 0, [6]);
    sim.runUntilIdle();
    assert.equal(h!.done, true);
    assert.ok(h!.error, 'the write waited for a generation that never became durable');
    assert.equal(sim.read(0, 0, 6 * BLOCK, BLOCK).equals(Buffer.alloc(BLOCK)), true, 'nothing reached the disk');
    assert.equal(sim.persisted(0).meta.gi.current, before);
    assertState(sim, 0, { disk: 'Failed', conn: 'StandAlone' });
    assert.match(sim.engine(0).lastError ?? '', /metadata write failed/);
    assert.match(sim.admin(0, { cmd: 'connect', discardMyData: false }).error ?? '', /Failed/);
    // Repaired: detach + attach come back from what was persisted.
    sim.failMetaWrites(0, false);
    sim.restart(0, { connect: false });
    assertState(sim, 0, { disk: 'UpToDate' });
  });

  test('a metadata write that fails on the Secondary leaves it Failed and apart; the Primary goes on and marks its writes', () => {
    const sim = pair(13);
    sim.failMetaWrites(1, true);
    sim.ok(1, { cmd: 'disconnect' });
    sim.runUntilIdle();
    assertState(sim, 1, { disk: 'Failed', conn: 'StandAlone' });
    const [h] = writeBlocks(sim, 0, [8]);
    sim.runUntilIdle();
    assert.equal(h!.acked, true);
    assert.ok(sim.engine(0).volumes[0]!.bitmap.test(8));
    sim.failMetaWrites(1, false);
    sim.restart(1);
    sim.settle();
    assertState(sim, 1, { disk: 'UpToDate', repl: 'Established' });
    assert.deepEqual(sim.ledgerMismatches(1), []);
  });

  for (const lost of ['sync-finished', 'sync-finished-ack'] as const) {
    test(`a resync whose ${lost} is lost stays a bitmap resync of what is out of sync, not a full one`, () => {
      const sim = pair(14, { volumeBytes: 4 * MiB });
      sim.cutLink();
      sim.runUntilIdle();
      writeBlocks(sim, 0, [1, 2, 3]);
      sim.runUntilIdle();
      sim.loseNext(lost);
      sim.restoreLink();
      sim.runUntilIdle();
      assert.equal(sim.conn, undefined, `the link broke with the ${lost}`);
      // The source writes meanwhile: the next generation starts while the end of the resync is unconfirmed.
      writeBlocks(sim, 0, [9], 8);
      sim.runUntilIdle();
      const moved = countResyncBlocks(sim, () => sim.settle());
      assert.ok(moved <= 4, `resynced ${moved} blocks: only what the interrupted end and the new write left`);
      assertState(sim, 1, { disk: 'UpToDate', repl: 'Established' });
      assert.deepEqual(sim.ledgerMismatches(1), []);
      assert.equal(sim.engine(0).volumes[0]!.meta.gi.bitmap, 0n, 'the source forgets the bitmap UUID once the target confirmed the end');
    });
  }

  test('demote is refused while an application write is still in flight', () => {
    const sim = pair(5);
    sim.stallDisk(1, true);
    const [h] = writeBlocks(sim, 0, [9]);
    sim.runUntilIdle();
    const r = sim.admin(0, { cmd: 'secondary' });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /writes are still in flight/);
    sim.stallDisk(1, false);
    sim.runUntilIdle();
    assert.equal(h!.acked, true);
    assert.equal(sim.admin(0, { cmd: 'secondary' }).ok, true);
  });

  test('discard-my-data is refused on the Primary even while connected', () => {
    const sim = pair(4);
    const r = sim.admin(0, { cmd: 'connect', discardMyData: true });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /while Primary/);
  });
});

// ================================================================== acceptance cases

describe('acceptance', () => {
  test('case 1: initial sync after primary --force: A SyncSource, B SyncTarget, full', () => {
    const sim = newSim(11);
    sim.connect();
    sim.runUntilIdle();
    assertState(sim, 0, { conn: 'Connected', disk: 'Inconsistent', repl: 'Established', peerDisk: 'Inconsistent' });
    assertState(sim, 1, { conn: 'Connected', disk: 'Inconsistent', repl: 'Established', peerDisk: 'Inconsistent' });
    sim.ok(0, { cmd: 'primary', force: true });
    // The handshake after the forced promotion decides: rule 3 from A's side.
    sim.stallDisk(1, true);
    sim.runUntilIdle();
    assertState(sim, 0, { role: 'Primary', disk: 'UpToDate', repl: 'SyncSource' });
    assertState(sim, 1, { disk: 'Inconsistent', repl: 'SyncTarget' });
    assert.equal(sim.engine(0).volumes[0]!.sync!.total, sim.blocks, 'full sync: every block');
    sim.stallDisk(1, false);
    sim.settle();
    assertState(sim, 0, { disk: 'UpToDate', repl: 'Established', peerDisk: 'UpToDate' });
    assertState(sim, 1, { disk: 'UpToDate', repl: 'Established', peerDisk: 'UpToDate' });
    assert.ok(uuidEq(gi(sim, 0).current, gi(sim, 1).current), 'equal C');
    assert.equal(gi(sim, 0).bitmap, 0n, "A's B[B] = 0");
    assertConverged(sim);
    // And it is durable: the persisted metadata says so too.
    assert.equal(sim.persisted(1).meta.disk, 'UpToDate');
    assert.equal(sim.persisted(0).meta.gi.bitmap, 0n);
  });

  test('case 2: new-current-uuid --clear-bitmap: both UpToDate, no sync', () => {
    const sim = newSim(12);
    sim.connect();
    sim.runUntilIdle();
    sim.ok(1, { cmd: 'new-current-uuid', clearBitmap: true });
    sim.runUntilIdle();
    for (const n of [0, 1] as const) {
      assertState(sim, n, { disk: 'UpToDate', repl: 'Established', peerDisk: 'UpToDate' });
      assert.equal(sim.engine(n).volumes[0]!.bitmap.weight, 0);
      assert.equal(sim.engine(n).volumes[0]!.stats.received, 0, 'no resync traffic');
    }
    assert.ok(uuidEq(gi(sim, 0).current, gi(sim, 1).current));
    assert.ok(!uuidEq(gi(sim, 0).current, UUID_JUST_CREATED));
    // Only for fresh pairs: a second time is refused.
    assert.equal(sim.admin(0, { cmd: 'new-current-uuid', clearBitmap: true }).ok, false);
  });

  test('case 3: secondary outage → bitmap sync of exactly the blocks written meanwhile', () => {
    const sim = pair(13);
    const c0 = gi(sim, 0).current;
    sim.cutLink();
    assertState(sim, 0, { role: 'Primary', conn: 'Connecting', peerDisk: 'DUnknown' });
    const blocks = [3, 4, 9, 100, 255];
    const hs = writeBlocks(sim, 0, blocks);
    sim.runUntilIdle();
    assert.ok(hs.every((h) => h.acked), 'writes complete without the peer');
    assert.equal(sim.engine(0).volumes[0]!.bitmap.weight, blocks.length);
    assert.ok(uuidEq(gi(sim, 0).bitmap, c0), 'B[B] took the old C');
    assert.ok(!uuidEq(gi(sim, 0).current, c0), 'a new generation started with the first write');
    sim.restoreLink();
    sim.stallDisk(1, true);
    sim.runUntilIdle();
    assertState(sim, 0, { repl: 'SyncSource' });
    assertState(sim, 1, { repl: 'SyncTarget', disk: 'Inconsistent' });
    assert.equal(sim.engine(1).volumes[0]!.sync!.total, blocks.length, 'bitmap sync, not full');
    sim.stallDisk(1, false);
    const moved = countResyncBlocks(sim, () => sim.settle());
    assert.equal(moved, blocks.length, 'exactly the written blocks were resynced');
    assertState(sim, 1, { disk: 'UpToDate', repl: 'Established' });
    assert.equal(gi(sim, 0).bitmap, 0n, "A's B[B] back to 0");
    assert.ok(gi(sim, 0).history.some((h) => uuidEq(h, c0)), 'the old bitmap UUID went into history');
    assert.ok(uuidEq(gi(sim, 0).current, gi(sim, 1).current));
    assertConverged(sim);
  });

  test('case 4: no writes, no new UUID: reconnect and promote-while-alone cause no sync', () => {
    const sim = pair(14);
    const c0 = gi(sim, 0).current;
    sim.cutLink();
    sim.runUntilIdle();
    sim.restoreLink();
    sim.runUntilIdle();
    assertState(sim, 0, { conn: 'Connected', repl: 'Established' });
    assertState(sim, 1, { conn: 'Connected', repl: 'Established', disk: 'UpToDate' });
    // Demote A, cut, promote B alone, demote B again without writing, reconnect.
    sim.ok(0, { cmd: 'secondary' });
    sim.runUntilIdle();
    sim.cutLink();
    sim.ok(1, { cmd: 'primary', force: false });
    sim.runUntilIdle();
    sim.ok(1, { cmd: 'secondary' });
    sim.runUntilIdle();
    sim.restoreLink();
    sim.settle();
    for (const n of [0, 1] as const) {
      assertState(sim, n, { conn: 'Connected', repl: 'Established', disk: 'UpToDate' });
      assert.ok(uuidEq(gi(sim, n).current, c0), 'C never changed');
      assert.equal(sim.engine(n).splitBrain, false);
      assert.equal(sim.engine(n).volumes[0]!.stats.received, 0, 'no resync traffic');
    }
  });

  test('case 5: split brain → both StandAlone, reported, no data changed', () => {
    const sim = pair(15);
    writeBlocks(sim, 0, [1, 2]);
    sim.runUntilIdle();
    sim.cutLink();
    sim.ok(1, { cmd: 'primary', force: false });
    writeBlocks(sim, 0, [10, 11], 100);
    writeBlocks(sim, 1, [20, 21, 22], 200);
    sim.runUntilIdle();
    const before = [Buffer.from(sim.disk(0)), Buffer.from(sim.disk(1))];
    sim.restoreLink();
    sim.settle();
    for (const n of [0, 1] as const) {
      assertState(sim, n, { conn: 'StandAlone', role: 'Primary' });
      assert.equal(sim.engine(n).splitBrain, true, 'split brain flagged');
      assert.ok(sim.logs(n).some((l) => l.level === 'alert' && /Split-Brain detected/.test(l.text)), 'reported loudly');
      assert.ok(sim.disk(n).equals(before[n]!), 'no data changed');
      assert.match(sim.engine(n).lastError ?? '', /split brain/);
    }
  });

  /** Case 6's split brain: A wrote 10, 11, 21; B (the victim-to-be) 20, 21, 22; B demoted. */
  function splitBrainSixLike(seed: number): { sim: EngineSim; victimMark: number; victimDisk: Buffer } {
    const sim = pair(seed);
    writeBlocks(sim, 0, [1, 2]);
    sim.runUntilIdle();
    sim.cutLink();
    sim.ok(1, { cmd: 'primary', force: false });
    const victimMark = sim.writeMark();
    writeBlocks(sim, 1, [20, 21, 22], 200);
    writeBlocks(sim, 0, [10, 11, 21], 100);
    sim.runUntilIdle();
    sim.restoreLink();
    sim.settle();
    assertState(sim, 1, { conn: 'StandAlone' });
    sim.ok(1, { cmd: 'secondary' });
    return { sim, victimMark, victimDisk: Buffer.from(sim.disk(1)) };
  }

  test('case 6: connect --discard-my-data on the victim → bitmap union sync, victim gets the survivor\'s data', () => {
    // Recovery: victim B secondary + connect --discard-my-data; survivor A connect.
    const { sim, victimMark } = splitBrainSixLike(16);
    sim.ok(1, { cmd: 'connect', discardMyData: true });
    sim.discardWrites(1, victimMark);
    sim.stallDisk(1, true);
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    sim.runUntilIdle();
    assertState(sim, 0, { role: 'Primary', repl: 'SyncSource', conn: 'Connected' });
    assertState(sim, 1, { role: 'Secondary', repl: 'SyncTarget', conn: 'Connected' });
    // Union of {10, 11, 21} and {20, 21, 22}: 5 blocks, not a full sync.
    assert.equal(sim.engine(1).volumes[0]!.sync!.total, 5);
    sim.stallDisk(1, false);
    sim.settle();
    assertState(sim, 1, { disk: 'UpToDate', repl: 'Established' });
    assert.equal(sim.engine(0).splitBrain, false);
    assert.equal(sim.engine(1).splitBrain, false);
    assertConverged(sim);
  });

  test('case 6 keeps the victim\'s diverging blocks first: exactly the blocks it wrote, with their data', () => {
    const { sim, victimMark, victimDisk } = splitBrainSixLike(161);
    sim.ok(1, { cmd: 'connect', discardMyData: true });
    sim.discardWrites(1, victimMark);
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    sim.settle();
    assert.equal(sim.sbCopies(0).length, 0, 'the survivor keeps nothing');
    const copies = sim.sbCopies(1);
    assert.equal(copies.length, 1);
    assert.deepEqual(copies[0]!.ranges.map((r) => [r.offset, r.length]), [[20 * BLOCK, 3 * BLOCK]]);
    assert.ok(copies[0]!.ranges[0]!.data.equals(victimDisk.subarray(20 * BLOCK, 23 * BLOCK)), 'the data as the victim had it');
    assertState(sim, 1, { disk: 'UpToDate', repl: 'Established', conn: 'Connected' });
    assertConverged(sim);
  });

  test('a split-brain copy that cannot be kept refuses the discard: StandAlone, nothing changed, the reason shown', () => {
    const { sim, victimDisk } = splitBrainSixLike(162);
    const survivorDisk = Buffer.from(sim.disk(0));
    const why = 'Refusing to discard my data: cannot keep a copy (ENOSPC); connect --discard-my-data --no-backup discards them without a copy';
    sim.refuseSbCopies(1, why);
    sim.ok(1, { cmd: 'connect', discardMyData: true });
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    sim.settle();
    assertState(sim, 1, { conn: 'StandAlone', disk: 'UpToDate', repl: 'Off' });
    assert.equal(sim.engine(1).splitBrain, true, 'still a split brain to resolve');
    assert.equal(sim.engine(1).discardMyData, false, 'the discard is not left armed');
    assert.equal(sim.engine(1).lastError, why);
    assert.ok(sim.logs(1).some((l) => l.level === 'alert' && l.text === why), 'said loudly');
    assert.ok(sim.disk(1).equals(victimDisk), 'the victim\'s data is untouched');
    assert.ok(sim.disk(0).equals(survivorDisk), 'and the survivor\'s');
    // The operator frees space (here: the refusal goes away) and asks again.
    sim.refuseSbCopies(1, undefined);
    sim.ok(1, { cmd: 'connect', discardMyData: true });
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    sim.settle();
    assert.equal(sim.sbCopies(1).length, 1);
    assertState(sim, 1, { disk: 'UpToDate', conn: 'Connected' });
  });

  test('connect --discard-my-data --no-backup discards without a copy, and says so', () => {
    const { sim, victimMark } = splitBrainSixLike(163);
    sim.refuseSbCopies(1, 'must not be asked');
    sim.ok(1, { cmd: 'connect', discardMyData: true, skipBackup: true });
    sim.discardWrites(1, victimMark);
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    sim.settle();
    assert.equal(sim.sbCopies(1).length, 0);
    assert.ok(sim.logs(1).some((l) => l.level === 'alert' && /discarding 3 diverging blocks of this node without a copy \(--no-backup\)/.test(l.text)));
    assertState(sim, 1, { disk: 'UpToDate', conn: 'Connected' });
    assertConverged(sim);
    assert.equal(sim.engine(1).skipSbCopy, false, 'the override is used up');
  });

  test('rr-conflict: a Primary with UpToDate data that would become SyncTarget refuses the connection', () => {
    const sim = pair(17);
    sim.cutLink();
    writeBlocks(sim, 0, [1, 2]);
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'secondary' });
    // B is promoted alone without writing: no new generation, so B is simply behind A (rule 5).
    sim.ok(1, { cmd: 'primary', force: false });
    sim.runUntilIdle();
    const before = [Buffer.from(sim.disk(0)), Buffer.from(sim.disk(1))];
    sim.restoreLink();
    sim.settle();
    assertState(sim, 1, { conn: 'StandAlone', role: 'Primary', disk: 'UpToDate' });
    assert.match(sim.engine(1).lastError ?? '', /rr-conflict/);
    assert.equal(sim.engine(1).splitBrain, false);
    assert.ok(sim.disk(1).equals(before[1]!), 'the Primary\'s data was not overwritten');
    assert.ok(sim.disk(0).equals(before[0]!));
    // Demoting B resolves it: B becomes SyncTarget over the bitmap and gets A's writes.
    sim.ok(1, { cmd: 'secondary' });
    sim.connect();
    sim.settle();
    assertState(sim, 1, { conn: 'Connected', disk: 'UpToDate', repl: 'Established' });
    assertConverged(sim);
  });

  test('case 8: unrelated data (both forced independently) → both StandAlone, no sync, not split brain', () => {
    const sim = newSim(18);
    sim.ok(0, { cmd: 'primary', force: true });
    sim.ok(1, { cmd: 'primary', force: true });
    writeBlocks(sim, 0, [1], 1);
    writeBlocks(sim, 1, [2], 2);
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'secondary' });
    sim.ok(1, { cmd: 'secondary' });
    const before = [Buffer.from(sim.disk(0)), Buffer.from(sim.disk(1))];
    sim.connect();
    sim.settle();
    for (const n of [0, 1] as const) {
      assertState(sim, n, { conn: 'StandAlone', repl: 'Off' });
      assert.match(sim.engine(n).lastError ?? '', /unrelated data/);
      assert.equal(sim.engine(n).splitBrain, false, 'not reported as split brain (no automatic policy may discard either)');
      assert.ok(sim.disk(n).equals(before[n]!), 'no data moved');
    }
  });

  test('case 11: both nodes killed and restarted → no split brain, resync bounded by hot extents', () => {
    for (let seed = 90; seed < 100; seed++) {
      const sim = pair(seed);
      const p = createPrng(seed);
      // The load stays within as many extents as the activity log holds hot.
      const hot = sim.opts.alExtents * sim.opts.alExtentBlocks;
      for (let i = 0; i < 20; i++) sim.write(0, 0, p.int(hot) * BLOCK, pattern(p));
      sim.runEvents(p.int(120));
      sim.crash(0, { applyInflightWrites: 'random', connect: false });
      sim.crash(1, { applyInflightWrites: 'random', connect: false });
      for (const n of [0, 1] as const) assert.ok(sim.engine(n).volumes[0]!.bitmap.weight <= hot, 'apply-al marks only the hot extents');
      sim.connect();
      const moved = countResyncBlocks(sim, () => sim.settle());
      assert.ok(moved <= hot, `seed ${seed}: resync of ${moved} blocks is bounded by the activity log, not a full sync`);
      for (const n of [0, 1] as const) {
        assertState(sim, n, { conn: 'Connected', repl: 'Established', disk: 'UpToDate' });
        assert.equal(sim.engine(n).splitBrain, false);
      }
      assert.ok(sim.disk(0).equals(sim.disk(1)), `seed ${seed}: equal data`);
      assert.deepEqual(sim.ledgerMismatches(0), [], `seed ${seed}: no acknowledged write lost`);
    }
  });

  test('failover without writes, then the crashed Primary returns → the new Primary is source', () => {
    const sim = pair(19);
    writeBlocks(sim, 0, [1, 2, 3]);
    sim.runEvents(5);
    sim.crash(0, { connect: false, applyInflightWrites: true });
    sim.runUntilIdle();
    sim.ok(1, { cmd: 'primary', force: false });
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    sim.settle();
    assertState(sim, 0, { conn: 'Connected', repl: 'Established', disk: 'UpToDate' });
    assertState(sim, 1, { conn: 'Connected', role: 'Primary' });
    assertConverged(sim);
  });

  test('an application flush under protocol C completes only once the peer\'s disk has flushed', () => {
    const sim = pair(20);
    writeBlocks(sim, 0, [4]);
    sim.runUntilIdle();
    sim.stallDisk(1, true);
    const f = sim.flush(0);
    sim.runUntilIdle();
    assert.equal(f.done, false, 'waiting for the peer');
    sim.stallDisk(1, false);
    sim.runUntilIdle();
    assert.equal(f.done, true);
  });

  test('an application flush completes without the peer when the link is gone', () => {
    const sim = pair(21);
    sim.stallDisk(1, true);
    const f = sim.flush(0);
    sim.runUntilIdle();
    assert.equal(f.done, false);
    sim.cutLink();
    sim.runUntilIdle();
    assert.equal(f.done, true);
  });

  test('case 12: protocol C: with the peer\'s disk stalled, a write is acknowledged only by the ack timeout, then out of sync', () => {
    const sim = pair(22, { ackTimeout: 2 });
    sim.stallDisk(1, true);
    const [h] = writeBlocks(sim, 0, [5]);
    sim.runUntilIdle();
    assert.equal(h!.done, false, 'not acknowledged while the peer has not written it');
    sim.tick(1000);
    sim.runUntilIdle();
    assert.equal(h!.done, false, 'still waiting within the ack timeout');
    sim.tick(1500);
    assert.equal(h!.acked, true, 'completed once the link was declared dead');
    assert.notEqual(sim.engine(0).conn, 'Connected');
    assert.ok(sim.engine(0).volumes[0]!.bitmap.test(5), 'its block is out of sync');
    assert.match(sim.engine(0).lastError ?? '', /ping timeout|in time/);
    // The peer recovers; the reconnect resyncs the block.
    sim.stallDisk(1, false);
    sim.settle();
    assertState(sim, 0, { conn: 'Connected', repl: 'Established', peerDisk: 'UpToDate' });
    assertConverged(sim);
  });

  test('case 12: protocol C: the peer\'s ack completes the write', () => {
    const sim = pair(23);
    sim.stallDisk(1, true);
    const [h] = writeBlocks(sim, 0, [5]);
    sim.runUntilIdle();
    assert.equal(h!.done, false);
    sim.stallDisk(1, false);
    sim.runUntilIdle();
    assert.equal(h!.acked, true);
    assert.equal(sim.engine(0).volumes[0]!.bitmap.weight, 0);
    assertConverged(sim);
  });

  test('protocol A: a write completes once local and queued to the peer', () => {
    const sim = pair(24, { protocol: 'A' });
    sim.stallNet(0, true);
    const [h] = writeBlocks(sim, 0, [6]);
    sim.runUntilIdle();
    assert.equal(h!.acked, true, 'acknowledged with the data still in the network');
    assert.ok(sim.disk(1).subarray(6 * BLOCK, 7 * BLOCK).every((b) => b === 0), 'the peer does not have it yet');
    sim.stallNet(0, false);
    sim.runUntilIdle();
    assertConverged(sim);
  });

  test('protocol A: without the local write done, no acknowledgement', () => {
    const sim = pair(25, { protocol: 'A' });
    sim.stallDisk(0, true);
    const [h] = writeBlocks(sim, 0, [6]);
    sim.runUntilIdle();
    assert.equal(h!.done, false);
    sim.stallDisk(0, false);
    sim.runUntilIdle();
    assert.equal(h!.acked, true);
  });

  test('protocol B: a write completes once the peer has received it, before its disk write', () => {
    const sim = pair(26, { protocol: 'B' });
    sim.stallDisk(1, true);
    const [h] = writeBlocks(sim, 0, [7]);
    sim.runUntilIdle();
    assert.equal(h!.acked, true, 'acknowledged on receipt');
    assert.ok(sim.disk(1).subarray(7 * BLOCK, 8 * BLOCK).every((b) => b === 0), 'not yet on the peer\'s disk');
    sim.stallDisk(1, false);
    sim.runUntilIdle();
    assertConverged(sim);
  });

  test('protocol B: not acknowledged before the peer has it', () => {
    const sim = pair(27, { protocol: 'B' });
    sim.stallNet(0, true);
    const [h] = writeBlocks(sim, 0, [7]);
    sim.runUntilIdle();
    assert.equal(h!.done, false);
    sim.stallNet(0, false);
    sim.runUntilIdle();
    assert.equal(h!.acked, true);
  });

  test('case 13: a blank replacement disk (C=4) becomes SyncTarget, full, and cannot be promoted until UpToDate', () => {
    const sim = pair(31, { maxRate: 256 * 1024, volumeBytes: 4 * MiB });
    writeBlocks(sim, 0, [0, 1, 2, 50, 200]);
    sim.runUntilIdle();
    sim.replaceDisk(1);
    sim.runUntilIdle();
    assertState(sim, 1, { conn: 'Connected', repl: 'SyncTarget', disk: 'Inconsistent' });
    assertState(sim, 0, { repl: 'SyncSource', role: 'Primary' });
    assert.equal(sim.engine(1).volumes[0]!.sync!.total, sim.blocks, 'full sync');
    const r = sim.admin(1, { cmd: 'primary', force: false });
    assert.deepEqual(r, { ok: false, error: 'Multiple primaries not allowed by config' });
    sim.ok(0, { cmd: 'secondary' });
    sim.runUntilIdle();
    assert.deepEqual(sim.admin(1, { cmd: 'primary', force: false }), { ok: false, error: 'Need access to UpToDate data' });
    assert.equal(sim.admin(1, { cmd: 'primary', force: true }).ok, false, '--force is refused too: the peer has the data');
    sim.settle();
    assertState(sim, 1, { disk: 'UpToDate', repl: 'Established' });
    assert.equal(sim.admin(1, { cmd: 'primary', force: false }).ok, true);
    assertConverged(sim);
  });

  test('case 13: the seed article\'s trap: blank disk on the node that was Primary, other node Secondary', () => {
    const sim = pair(32);
    writeBlocks(sim, 0, [0, 7, 8]);
    sim.runUntilIdle();
    // A (Primary) loses its disk: the operator demotes it, wipes it and brings it back.
    sim.ok(0, { cmd: 'secondary' });
    sim.runUntilIdle();
    sim.replaceDisk(0, { connect: false });
    // Promoting the blank node first — the seed's mistake — must fail or must not make it source.
    assert.deepEqual(sim.admin(0, { cmd: 'primary', force: false }), { ok: false, error: 'Need access to UpToDate data' });
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    sim.stallDisk(0, true);
    sim.runUntilIdle();
    assertState(sim, 0, { repl: 'SyncTarget', disk: 'Inconsistent' });
    assertState(sim, 1, { repl: 'SyncSource', disk: 'UpToDate' });
    sim.stallDisk(0, false);
    sim.settle();
    assertConverged(sim);
  });

  test('case 13: a blank node forced Primary while alone never becomes source over data', () => {
    const sim = pair(33);
    writeBlocks(sim, 0, [3, 4]);
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'secondary' });
    sim.runUntilIdle();
    sim.replaceDisk(0, { connect: false });
    // The worst case: the operator forces the blank node Primary before it ever connects.
    sim.ok(0, { cmd: 'primary', force: true });
    const blankMark = sim.writeMark();
    sim.ok(0, { cmd: 'connect', discardMyData: false });
    sim.settle();
    // Its new C is unrelated to B's data: both refuse (StandAlone), nothing is overwritten.
    assert.notEqual(sim.engine(1).volumes[0]!.repl, 'SyncTarget');
    assert.deepEqual(sim.ledgerMismatches(1), [], 'B still holds every acknowledged write');
    void blankMark;
  });

  test('case 14: graceful Secondary disconnect → Primary shows the peer Outdated; promoting it needs --force', () => {
    const sim = pair(34);
    writeBlocks(sim, 0, [1]);
    sim.runUntilIdle();
    sim.ok(1, { cmd: 'disconnect' });
    sim.runUntilIdle();
    assertState(sim, 0, { role: 'Primary', peerDisk: 'Outdated' });
    assertState(sim, 1, { conn: 'StandAlone', disk: 'Outdated' });
    assert.equal(sim.persisted(1).meta.disk, 'Outdated', 'Outdated is persisted on the Secondary');
    assert.equal(sim.persisted(0).meta.peerOutdated, true, 'and remembered by the Primary');
    assert.deepEqual(sim.admin(1, { cmd: 'primary', force: false }), { ok: false, error: 'Need access to UpToDate data' });
    // With --force it is allowed (it is alone): the operator takes responsibility.
    assert.equal(sim.admin(1, { cmd: 'primary', force: true }).ok, true);
  });

  test('case 14: after a graceful restart the Outdated peer comes back and is brought up to date', () => {
    const sim = pair(35);
    sim.ok(1, { cmd: 'disconnect' });
    sim.runUntilIdle();
    writeBlocks(sim, 0, [1, 2]);
    sim.runUntilIdle();
    sim.restart(0, { connect: false });
    assertState(sim, 0, { peerDisk: 'Outdated' });
    sim.ok(0, { cmd: 'primary', force: false });
    sim.connect();
    sim.settle();
    assertState(sim, 1, { disk: 'UpToDate', conn: 'Connected', repl: 'Established' });
    assertState(sim, 0, { peerDisk: 'UpToDate' });
    assertConverged(sim);
  });

  test('application writes during the initial sync are never overwritten by older resync data', () => {
    for (let seed = 40; seed < 60; seed++) {
      const sim = newSim(seed, { maxRate: 512 * 1024, volumeBytes: 4 * MiB });
      sim.connect();
      sim.runUntilIdle();
      sim.ok(0, { cmd: 'primary', force: true });
      const p = createPrng(seed);
      // Interleave application writes with the resync, many of them into blocks not yet synced.
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 4; i++) {
          const b = p.int(sim.blocks);
          sim.write(0, 0, b * BLOCK, pattern(p));
        }
        for (let i = 0; i < 1 + p.int(30); i++) if (sim.runEvents(1) === 0) break;
        if (round % 3 === 0) sim.tick(100);
      }
      sim.settle();
      assertState(sim, 1, { disk: 'UpToDate' });
      assertConverged(sim);
    }
  });

  test('an interrupted initial sync resumes from the bitmap (rule 5), not from the start', () => {
    const sim = newSim(61, { maxRate: 256 * 1024, volumeBytes: 4 * MiB });
    sim.connect();
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'primary', force: true });
    writeBlocks(sim, 0, [0, 255]);
    sim.runUntilIdle();
    sim.tick(1000);
    sim.runUntilIdle();
    const left = sim.engine(1).volumes[0]!.bitmap.weight;
    assert.ok(left > 0 && left < sim.blocks, `partially synced (${left} of ${sim.blocks} left)`);
    // B took A's bitmap UUID as its C when the sync started.
    assert.ok(uuidEq(gi(sim, 1).current, gi(sim, 0).bitmap));
    assert.ok(uuidEq(sim.persisted(1).meta.gi.current, gi(sim, 0).bitmap), 'and persisted it');
    sim.cutLink();
    sim.runUntilIdle();
    assertState(sim, 1, { disk: 'Inconsistent', repl: 'Off' });
    // While apart, A writes more; B stays Inconsistent and cannot be promoted.
    writeBlocks(sim, 0, [100], 5);
    sim.runUntilIdle();
    assert.deepEqual(sim.admin(1, { cmd: 'primary', force: false }), { ok: false, error: 'Need access to UpToDate data' });
    sim.restoreLink();
    sim.stallDisk(1, true);
    sim.runUntilIdle();
    assertState(sim, 1, { repl: 'SyncTarget' });
    const total = sim.engine(1).volumes[0]!.sync!.total;
    assert.ok(total < sim.blocks, `resumed over ${total} blocks, not a full ${sim.blocks}`);
    assert.ok(total >= left, 'everything still missing is included');
    sim.stallDisk(1, false);
    sim.settle();
    assertConverged(sim);
  });

  test('sync progress: done and ETA follow the bitmap', () => {
    const sim = newSim(62, { maxRate: 256 * 1024, volumeBytes: 4 * MiB });
    sim.connect();
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'primary', force: true });
    sim.runUntilIdle();
    const v = sim.engine(1).volumes[0]!;
    const d0 = syncDone(v)!;
    assert.ok(d0 >= 0 && d0 < 100);
    // 256 KiB/s against 1 MiB requests: a new request every ~4 s.
    for (let i = 0; i < 100 && syncDone(v) === d0; i++) {
      sim.tick(250);
      sim.runUntilIdle();
    }
    assert.ok(v.sync, 'still syncing');
    assert.ok(syncDone(v)! > d0, 'progress');
    sim.tick(1000);
    assert.ok((syncEta(v) ?? 0) > 0, 'an ETA once a rate is known');
    sim.settle();
    assert.equal(syncDone(v), undefined);
  });

  test('pause-sync stops requests; resume-sync continues', () => {
    const sim = newSim(63, { maxRate: 256 * 1024, volumeBytes: 4 * MiB });
    sim.connect();
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'primary', force: true });
    sim.runUntilIdle();
    sim.ok(1, { cmd: 'pause-sync' });
    assertState(sim, 1, { repl: 'PausedSyncT' });
    sim.runUntilIdle();
    const w = sim.engine(1).volumes[0]!.bitmap.weight;
    for (let i = 0; i < 10; i++) {
      sim.tick(500);
      sim.runUntilIdle();
    }
    assert.equal(sim.engine(1).volumes[0]!.bitmap.weight, w, 'no progress while paused');
    sim.ok(1, { cmd: 'resume-sync' });
    sim.settle();
    assertConverged(sim);
  });

  test('primary crash, failover to B, writes on B, A comes back → B is source, no acknowledged write lost', () => {
    for (let seed = 70; seed < 80; seed++) {
      const sim = pair(seed);
      const p = createPrng(seed);
      for (let i = 0; i < 30; i++) sim.write(0, 0, p.int(sim.blocks) * BLOCK, pattern(p));
      for (let i = 0; i < p.int(200); i++) if (sim.runEvents(1) === 0) break;
      sim.crash(0, { applyInflightWrites: 'random', connect: false });
      sim.runUntilIdle();
      sim.ok(1, { cmd: 'primary', force: false });
      // Everything A acknowledged under protocol C is on B.
      assert.deepEqual(sim.ledgerMismatches(1), [], `seed ${seed}: B holds every acknowledged write`);
      const seen = new Set<number>();
      for (let i = 0; i < 10; i++) {
        let b = p.int(sim.blocks);
        while (seen.has(b)) b = (b + 1) % sim.blocks;
        seen.add(b);
        sim.write(1, 0, b * BLOCK, pattern(p));
      }
      sim.runUntilIdle();
      sim.ok(0, { cmd: 'connect', discardMyData: false });
      sim.settle();
      assertState(sim, 0, { conn: 'Connected', disk: 'UpToDate', role: 'Secondary' });
      assertState(sim, 1, { conn: 'Connected', role: 'Primary' });
      assertConverged(sim);
      assert.equal(sim.engine(0).volumes[0]!.meta.crashedPrimary, false, 'the crash flag is cleared after the resync');
    }
  });

  test('primary crash without failover: A comes back and resyncs its activity log, no full sync', () => {
    for (let seed = 80; seed < 90; seed++) {
      const sim = pair(seed);
      const p = createPrng(seed);
      for (let i = 0; i < 20; i++) sim.write(0, 0, p.int(sim.blocks) * BLOCK, pattern(p));
      for (let i = 0; i < p.int(150); i++) if (sim.runEvents(1) === 0) break;
      sim.crash(0, { applyInflightWrites: 'random', connect: false });
      assert.equal(sim.engine(0).volumes[0]!.meta.crashedPrimary, true);
      sim.runUntilIdle();
      sim.ok(0, { cmd: 'connect', discardMyData: false });
      sim.settle();
      assertState(sim, 0, { conn: 'Connected', repl: 'Established' });
      assertState(sim, 1, { conn: 'Connected', repl: 'Established', disk: 'UpToDate' });
      assert.equal(sim.disk(0).equals(sim.disk(1)), true, `seed ${seed}: data equal at the end`);
      assert.deepEqual(sim.ledgerMismatches(0), [], `seed ${seed}`);
      assert.ok(sim.engine(1).volumes[0]!.stats.received + sim.engine(0).volumes[0]!.stats.received < sim.opts.volumeBytes + 40 * BLOCK, 'no full sync');
    }
  });
});

test('promotion mid-handshake is refused as a transient state (the peer may decide on old identifiers)', () => {
  const s = createEngine({
    resource: 'r0',
    nodeId: 0,
    peerNodeId: 1,
    protocol: 'C',
    maxRate: 100 << 20,
    ackTimeout: 6,
    now: 0,
    rng: createPrng(1),
    volumes: [{ volume: 0, dataBytes: 1 << 20, bitmap: new Bitmap(256), meta: { gi: { current: 4n, bitmap: 0n, history: [] }, disk: 'Inconsistent', primary: false, crashedPrimary: false, peerOutdated: false } }],
  });
  step(s, { t: 'admin', req: 1, command: { cmd: 'connect', discardMyData: false } });
  step(s, { t: 'link-up' });
  const out = step(s, { t: 'admin', req: 2, command: { cmd: 'primary', force: true } });
  assert.deepEqual(out.find((a) => a.a === 'reply'), { a: 'reply', req: 2, error: 'In transient state, retry after next state change' });
  assert.equal(s.role, 'Secondary');
});
