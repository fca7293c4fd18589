// Resync throttled by application I/O (DRBD's c-min-rate idea): a SyncTarget keeps a quarter of
// its usual window of resync requests in flight while application writes are in flight on the
// resource, and never less than one request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitmap } from '../../../agent/engine/bitmap.js';
import { createEngine, resyncWindow, RS_CHUNK, RS_MAX_INFLIGHT, RS_THROTTLED_INFLIGHT, step } from '../../../agent/engine/machine.js';
import { BLOCK, type Action, type EngineState } from '../../../agent/engine/machine-types.js';
import { createPrng } from '../../support/prng.js';
import { IdMap } from '../../../agent/lib/id-map.js';
import { UUID_JUST_CREATED } from '../../../agent/engine/uuid.js';

const MiB = 1 << 20;

/** A SyncTarget of a full sync over 64 MiB, as after the handshake and sync-started. */
function syncTarget(): EngineState {
  const s = createEngine({
    resource: 'r0',
    nodeId: 1,
    peerNodeId: 0,
    protocol: 'C',
    maxRate: 1 << 30,
    ackTimeout: 5,
    now: 0,
    rng: createPrng(1),
    volumes: [{ volume: 0, dataBytes: 64 * MiB, meta: { gi: { current: UUID_JUST_CREATED, bitmap: 0n, history: [] }, disk: 'Inconsistent', primary: false, crashedPrimary: false, peerOutdated: false }, bitmap: new Bitmap((64 * MiB) / BLOCK) }],
  });
  s.conn = 'Connected';
  s.peerRole = 'Primary';
  const v = s.volumes[0]!;
  v.bitmap.setAll();
  v.repl = 'SyncTarget';
  v.peerDisk = 'UpToDate';
  v.sync = { dir: 'target', total: v.bitmap.weight, startedAt: 0, paused: false, cursor: 0, inflight: new IdMap(), inflightBytes: 0, lastWeight: v.bitmap.weight, lastTick: 0, rate: 0, budget: 1 << 30 };
  return s;
}

function requestedBytes(actions: Action[]): number {
  return actions.reduce((n, a) => n + (a.a === 'send' && a.msg.type === 'rs-request' ? a.msg.length : 0), 0);
}

test('without application I/O the SyncTarget fills its whole window', () => {
  const s = syncTarget();
  assert.equal(resyncWindow(s), RS_MAX_INFLIGHT);
  assert.equal(requestedBytes(step(s, { t: 'tick', now: 10 })), RS_MAX_INFLIGHT);
});

test('a replicated application write in flight shrinks the window to a quarter', () => {
  const s = syncTarget();
  // The Primary's write arrives and is on its way to the disk.
  const acts = step(s, { t: 'peer', msg: { type: 'data', volume: 0, seq: 1, offset: 0, fua: false, payload: Buffer.alloc(BLOCK, 1) } });
  assert.ok(acts.some((a) => a.a === 'disk-write'));
  assert.equal(resyncWindow(s), RS_THROTTLED_INFLIGHT);
  assert.equal(requestedBytes(step(s, { t: 'tick', now: 10 })), RS_THROTTLED_INFLIGHT);
  // The write lands: the window opens again.
  const w = [...s.diskInflight.values()].find((op) => op.origin.kind === 'peer')!;
  step(s, { t: 'disk-done', token: w.token });
  assert.equal(resyncWindow(s), RS_MAX_INFLIGHT);
  assert.equal(requestedBytes(step(s, { t: 'tick', now: 20 })), RS_MAX_INFLIGHT - RS_THROTTLED_INFLIGHT);
});

test('the throttled window still holds at least one request, so the resync always progresses', () => {
  assert.ok(RS_THROTTLED_INFLIGHT >= RS_CHUNK);
  assert.ok(RS_THROTTLED_INFLIGHT < RS_MAX_INFLIGHT);
});
