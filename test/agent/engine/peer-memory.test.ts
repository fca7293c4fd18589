// What a node remembers of its peer: its last word survives losing it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitmap } from '../../../agent/engine/bitmap.js';
import { createEngine } from '../../../agent/engine/machine.js';
import type { EngineState, HelloState } from '../../../agent/engine/machine-types.js';
import { observePeer, type PeerMemory } from '../../../agent/engine/peer-memory.js';
import { UUID_JUST_CREATED, formatUuid } from '../../../agent/engine/uuid.js';

const X = 0x1111_2222_3333_4444n;
const Y = 0x5555_6666_7777_8888n;
const hex = formatUuid;
const ZERO = hex(0n);

function engine(): EngineState {
  return createEngine({
    resource: 'r0',
    nodeId: 0,
    peerNodeId: 1,
    protocol: 'C',
    maxRate: 0,
    ackTimeout: 6,
    now: 0,
    rng: { next: () => 7 },
    volumes: [{ volume: 0, dataBytes: 1 << 20, bitmap: new Bitmap(256), meta: { gi: { current: X, bitmap: 0n, history: [] }, disk: 'UpToDate', primary: false, crashedPrimary: false, peerOutdated: false } }],
  });
}

function memory(v: Partial<PeerMemory['volumes'][0]> = {}, role: PeerMemory['role'] = 'Secondary'): PeerMemory {
  return { peer: 'ha-b', peerNodeId: 1, seen: '2026-12-07T01:02:00.000Z', live: false, role, volumes: [{ disk: 'UpToDate', current: hex(X), bitmap: ZERO, history: [], ...v }] };
}


describe('observePeer', () => {
  test('in sync: the peer holds this node generation; losing it dates the memory, content kept', () => {
    const s = engine();
    s.conn = 'Connected';
    s.peerRole = 'Primary';
    s.volumes[0]!.repl = 'Established';
    s.volumes[0]!.peerDisk = 'UpToDate';
    const m = observePeer(undefined, s, 'ha-b', 't1')!;
    assert.deepEqual(m, { peer: 'ha-b', peerNodeId: 1, seen: 't1', live: true, role: 'Primary', volumes: [{ disk: 'UpToDate', current: hex(X), bitmap: ZERO, history: [] }] });
    assert.equal(observePeer(m, s, 'ha-b', 't2'), m, 'nothing new while connected: the same object, nothing to store');
    s.conn = 'Connecting';
    const lost = observePeer(m, s, 'ha-b', 't3')!;
    assert.deepEqual(lost, { ...m, live: false, seen: 't3' });
    assert.equal(observePeer(lost, s, 'ha-b', 't4'), lost, 'out of sight: the last word stands');
  });

  test('nothing seen yet, not connected: no memory', () => {
    assert.equal(observePeer(undefined, engine(), 'ha-b', 't'), undefined);
  });

  test('a refused handshake still says what the peer holds', () => {
    const hello: HelloState = { nodeId: 1, role: 'Primary', discardMyData: false, volumes: [{ volume: 0, current: hex(Y), bitmap: ZERO, history: [hex(UUID_JUST_CREATED)], crashedPrimary: false, disk: 'UpToDate', dataBytes: 1 << 20 }] };
    const m = observePeer(memory(), engine(), 'ha-b', 't', hello)!;
    assert.equal(m.role, 'Primary');
    assert.deepEqual(m.volumes, [{ disk: 'UpToDate', current: hex(Y), bitmap: ZERO, history: [hex(UUID_JUST_CREATED)] }]);
  });
});
