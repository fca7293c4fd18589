import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Zeroes, type PeerMsg } from '../../../agent/engine/machine-types.js';
import { toWire, WireReader } from '../../../agent/engine/peer-codec.js';
import { FrameDecoder, decodeMessage, encodeMessage } from '../../../agent/engine/peer-wire.js';

function roundTrip(m: PeerMsg): PeerMsg[] {
  const reader = new WireReader();
  const dec = new FrameDecoder();
  const frames = toWire(m).flatMap((w) => dec.push(Buffer.concat(encodeMessage(w))));
  return frames.map((f) => reader.read(decodeMessage(f))).filter((x): x is PeerMsg => x !== undefined);
}

test('reservation messages travel as binary frames and come back as they were', () => {
  const set: PeerMsg = { type: 'pr-set', volume: 1, id: 77, blob: Buffer.from('{"generation":1}') };
  assert.deepEqual(toWire(set).map((w) => w.type), ['PrBlob']);
  assert.deepEqual(roundTrip(set), [set]);
  const ack: PeerMsg = { type: 'pr-ack', volume: 1, id: 77 };
  assert.deepEqual(roundTrip(ack), [ack]);
});

test('a discard travels as a length (DataZeroes), never as a buffer of zeros', () => {
  const m: PeerMsg = { type: 'data', volume: 1, seq: 9, offset: 64 << 20, fua: true, payload: new Zeroes(64 << 20) };
  const wire = toWire(m);
  assert.deepEqual(wire.map((w) => w.type), ['DataZeroes']);
  assert.ok(Buffer.concat(encodeMessage(wire[0]!)).length < 64, 'a small frame whatever the length');
  assert.deepEqual(roundTrip(m), [m]);
});

test('the handshake carries each volume\'s reservation blob (base64 in the JSON hello)', () => {
  const hello: PeerMsg = {
    type: 'hello-state',
    state: { nodeId: 0, role: 'Primary', discardMyData: false, volumes: [{ volume: 0, current: '1', bitmap: '0', history: [], crashedPrimary: false, disk: 'UpToDate', dataBytes: 4096, pr: Buffer.from('x').toString('base64') }] },
  };
  assert.deepEqual(roundTrip(hello), [hello]);
});

test('a flush-ack keeps its binary frame; a failed one carries its reason', () => {
  const ok: PeerMsg = { type: 'flush-ack', id: 5 };
  assert.deepEqual(toWire(ok).map((w) => w.type), ['FlushAck']);
  assert.deepEqual(roundTrip(ok), [ok]);
  const failed: PeerMsg = { type: 'flush-ack', id: 6, error: 'EIO: i/o error' };
  assert.deepEqual(roundTrip(failed), [failed]);
});
