// Consistent resync target: when the SyncTarget keeps an undo journal (pure decision), and the
// machine's side of it driven through step(): journal opened before the first request, the
// operator told (and the resync held) when it cannot be had, rollback when the source vanishes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitmap } from '../../../agent/engine/bitmap.js';
import { createEngine, step } from '../../../agent/engine/machine.js';
import { BLOCK, type Action, type EngineState, type HelloState, type VolumeMeta } from '../../../agent/engine/machine-types.js';
import { createPrng } from '../../support/prng.js';
import { decideUndo, undoBytesFor } from '../../../agent/engine/undo-decision.js';
import { UUID_JUST_CREATED, formatUuid } from '../../../agent/engine/uuid.js';

const MiB = 1 << 20;
const C_OLD = 0x1111_2222_3333_4444n;
const C_NEW = 0x5555_6666_7777_8888n;

describe('decideUndo (pure)', () => {
  test('no consistent data → no journal, the resync proceeds DRBD-style', () => {
    assert.equal(decideUndo({ hadConsistentData: false, outOfSyncBlocks: 10, maxBytes: MiB }).kind, 'without');
  });
  test('fits → journal, capacity within the maximum and at least what the bitmap needs', () => {
    const d = decideUndo({ hadConsistentData: true, outOfSyncBlocks: 100, maxBytes: 64 * MiB });
    assert.equal(d.kind, 'journal');
    if (d.kind === 'journal') {
      assert.ok(d.capacity >= undoBytesFor(100));
      assert.ok(d.capacity <= 64 * MiB);
    }
  });
  test('does not fit → wait for the operator, saying how much is needed', () => {
    const d = decideUndo({ hadConsistentData: true, outOfSyncBlocks: 1000, maxBytes: MiB });
    assert.equal(d.kind, 'wait');
    if (d.kind === 'wait') assert.match(d.why, /would need \d+ bytes for 1000 out-of-sync blocks/);
  });
});

// ------------------------------------------------------------------ machine, through step()

function meta(current: bigint, disk: VolumeMeta['disk']): VolumeMeta {
  return { gi: { current, bitmap: 0n, history: [] }, disk, primary: false, crashedPrimary: false, peerOutdated: false };
}

/** Node 1, Secondary, connected to a peer whose bitmap UUID is our C (rule 5: we are SyncTarget). */
function targetOf(myMeta: VolumeMeta, max: number, peerBits: number[]): { s: EngineState; out: Action[] } {
  const s = createEngine({
    resource: 'r0',
    nodeId: 1,
    peerNodeId: 0,
    protocol: 'C',
    maxRate: 1 << 30,
    ackTimeout: 5,
    now: 0,
    rng: createPrng(3),
    undoJournalMax: [max],
    volumes: [{ volume: 0, dataBytes: 4 * MiB, meta: myMeta, bitmap: new Bitmap((4 * MiB) / BLOCK) }],
  });
  const out: Action[] = [];
  const run = (acts: Action[]) => {
    out.push(...acts);
    // Metadata writes complete at once.
    for (const a of acts) if (a.a === 'persist-meta') run(step(s, { t: 'meta-done', token: a.token }));
  };
  run(step(s, { t: 'admin', req: 1, command: { cmd: 'connect', discardMyData: false } }));
  run(step(s, { t: 'link-up' }));
  const peer: HelloState = {
    nodeId: 0,
    role: 'Primary',
    discardMyData: false,
    volumes: [{ volume: 0, current: formatUuid(C_NEW), bitmap: formatUuid(myMeta.gi.current), history: [], crashedPrimary: false, disk: 'UpToDate', dataBytes: 4 * MiB }],
  };
  run(step(s, { t: 'peer', msg: { type: 'hello-state', state: peer } }));
  const bits = new Bitmap((4 * MiB) / BLOCK);
  for (const b of peerBits) bits.setRange(b * BLOCK, BLOCK);
  run(step(s, { t: 'peer', msg: { type: 'bitmap', volume: 0, bits: bits.toBytes() } }));
  run(step(s, { t: 'peer', msg: { type: 'sync-started', volume: 0, bitmapUuid: formatUuid(myMeta.gi.current) } }));
  return { s, out };
}

const requests = (acts: Action[]) => acts.filter((a) => a.a === 'send' && a.msg.type === 'rs-request');

describe('consistent resync target in the machine', () => {
  test('a target with consistent data opens the journal before the first request', () => {
    const { s, out } = targetOf(meta(C_OLD, 'UpToDate'), MiB, [1, 2, 3]);
    const open = out.find((a) => a.a === 'undo-open');
    assert.ok(open, 'undo-open asked of the runtime');
    assert.equal(requests(out).length, 0, 'no resync request before the journal exists');
    assert.equal(s.volumes[0]!.undo?.state, 'opening');
    const acts = step(s, { t: 'undo-opened', volume: 0 });
    assert.equal(s.volumes[0]!.undo?.state, 'active');
    assert.ok(requests(acts).length > 0, 'requests go once it is open');
  });

  test('source lost mid-resync → rollback; then Outdated with the restored blocks out of sync', () => {
    const { s } = targetOf(meta(C_OLD, 'UpToDate'), MiB, [1, 2, 3]);
    step(s, { t: 'undo-opened', volume: 0 });
    const acts = step(s, { t: 'link-down', reason: 'network-failure' });
    assert.ok(acts.some((a) => a.a === 'undo-rollback' && a.volume === 0));
    assert.equal(s.volumes[0]!.disk, 'Inconsistent', 'until the rollback is done');
    s.volumes[0]!.bitmap.clearAll();
    const done = step(s, { t: 'undo-rolled-back', volume: 0, blocks: [1, 2] });
    assert.equal(s.volumes[0]!.disk, 'Outdated');
    assert.equal(s.volumes[0]!.meta.disk, 'Outdated');
    assert.ok(done.some((a) => a.a === 'persist-meta'));
    assert.equal(s.volumes[0]!.bitmap.weight, 2);
    // And it can be promoted with --force (after explicit confirmation on the console side).
    const r = step(s, { t: 'admin', req: 9, command: { cmd: 'primary', force: true } });
    const reply = r.find((a): a is Extract<Action, { a: 'reply' }> => a.a === 'reply');
    assert.equal(reply?.error, undefined);
    assert.equal(s.role, 'Primary');
  });

  test('the sync finishing drops the journal', () => {
    const { s } = targetOf(meta(C_OLD, 'UpToDate'), MiB, [1]);
    step(s, { t: 'undo-opened', volume: 0 });
    const acts = step(s, { t: 'peer', msg: { type: 'sync-finished', volume: 0, current: formatUuid(C_NEW), synced: formatUuid(C_OLD) } });
    assert.ok(acts.some((a) => a.a === 'undo-drop'));
    assert.equal(s.volumes[0]!.undo, undefined);
  });

  test('journal too large → operator told before the resync starts, PausedSyncT; resume-sync proceeds without it', () => {
    const { s, out } = targetOf(meta(C_OLD, 'UpToDate'), 64 * 1024, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    assert.equal(out.some((a) => a.a === 'undo-open'), false);
    assert.equal(requests(out).length, 0, 'nothing overwritten');
    assert.equal(s.volumes[0]!.repl, 'PausedSyncT');
    assert.match(s.lastError ?? '', /not started: the undo journal would need .*resume-sync proceeds without the undo journal/);
    assert.ok(out.some((a) => a.a === 'log' && a.level === 'alert'));
    const acts = step(s, { t: 'admin', req: 5, command: { cmd: 'resume-sync' } });
    assert.equal(s.volumes[0]!.repl, 'SyncTarget');
    assert.ok(requests(acts).length > 0);
    assert.equal(s.volumes[0]!.undo?.state, 'off');
  });

  test('waiting for the operator, then disconnected: nothing was overwritten, so the data is Outdated, not Inconsistent', () => {
    const many = Array.from({ length: 40 }, (_, i) => i);
    const { s } = targetOf(meta(C_OLD, 'UpToDate'), 64 * 1024, many);
    assert.equal(s.volumes[0]!.disk, 'Inconsistent');
    const acts = step(s, { t: 'admin', req: 6, command: { cmd: 'disconnect' } });
    assert.equal(s.volumes[0]!.disk, 'Outdated');
    assert.equal(s.volumes[0]!.meta.disk, 'Outdated');
    assert.ok(acts.some((a) => a.a === 'persist-meta'));
  });

  test('…but a replicated write that landed meanwhile leaves it Inconsistent', () => {
    const many = Array.from({ length: 40 }, (_, i) => i);
    const { s } = targetOf(meta(C_OLD, 'UpToDate'), 64 * 1024, many);
    step(s, { t: 'peer', msg: { type: 'data', volume: 0, seq: 1, offset: 100 * BLOCK, fua: false, payload: Buffer.alloc(BLOCK, 1) } });
    step(s, { t: 'link-down', reason: 'network-failure' });
    assert.equal(s.volumes[0]!.disk, 'Inconsistent');
  });

  test('a journal created after its sync ended is removed', () => {
    const { s } = targetOf(meta(C_OLD, 'UpToDate'), MiB, [1]);
    const lost = step(s, { t: 'link-down', reason: 'network-failure' });
    assert.ok(lost.some((a) => a.a === 'undo-drop'));
    assert.equal(s.volumes[0]!.disk, 'Outdated', 'nothing overwritten yet');
    const late = step(s, { t: 'undo-opened', volume: 0 });
    assert.ok(late.some((a) => a.a === 'undo-drop'));
  });

  test('the journal file cannot be created (file system full) → the operator is told, nothing overwritten', () => {
    const { s } = targetOf(meta(C_OLD, 'UpToDate'), MiB, [1]);
    const acts = step(s, { t: 'undo-opened', volume: 0, error: 'not enough space' });
    assert.equal(requests(acts).length, 0);
    assert.equal(s.volumes[0]!.repl, 'PausedSyncT');
    assert.match(s.lastError ?? '', /could not be created \(not enough space\)/);
  });

  test('a target without consistent data (C = 4) resyncs DRBD-style, no journal', () => {
    const { out } = targetOf(meta(UUID_JUST_CREATED, 'Inconsistent'), MiB, [1]);
    assert.equal(out.some((a) => a.a === 'undo-open'), false);
    assert.ok(requests(out).length > 0);
  });

  test('the journal giving up mid-sync (full) is reported loudly and the sync goes on', () => {
    const { s } = targetOf(meta(C_OLD, 'UpToDate'), MiB, [1]);
    step(s, { t: 'undo-opened', volume: 0 });
    const acts = step(s, { t: 'undo-lost', volume: 0, reason: 'full' });
    assert.ok(acts.some((a) => a.a === 'undo-drop'));
    assert.ok(acts.some((a) => a.a === 'log' && a.level === 'alert' && /can no longer roll back/.test(a.text)));
    const lost = step(s, { t: 'link-down', reason: 'network-failure' });
    assert.equal(lost.some((a) => a.a === 'undo-rollback'), false);
    assert.equal(s.volumes[0]!.disk, 'Inconsistent');
  });
});
