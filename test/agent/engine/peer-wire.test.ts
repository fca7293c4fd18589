import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  BITMAP_LAST,
  DATA_FLUSH,
  DATA_FUA,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  FrameDecoder,
  MAX_DATA_BYTES,
  MAX_FRAME_PAYLOAD,
  MAX_PR_BYTES,
  MESSAGE_TYPE_NUMBERS,
  ProtocolError,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  type PeerMessage,
  type PeerMessageType,
} from '../../../agent/engine/peer-wire.js';
import { readLikeSocket } from '../../support/socket-reads.js';

// Deterministic PRNG (mulberry32) so chunkings and payloads reproduce.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytes(n: number, seed: number): Buffer {
  const r = rng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const samples: PeerMessage[] = [
  { type: 'Hello', protocolVersion: 1, nodeId: 1, resource: 'r0', configHash: 'abc123', session: 'f00d:0' },
  { type: 'Hello', protocolVersion: 1, nodeId: 1, resource: 'r0', configHash: 'abc123', session: 'f00d:0', unauthenticated: true },
  { type: 'AuthChallenge', nonce: bytes(32, 1) },
  { type: 'AuthResponse', mac: bytes(32, 2) },
  { type: 'AuthResult', ok: true },
  { type: 'AuthResult', ok: false, reason: 'authentication failed' },
  { type: 'KeepConnection' },
  {
    type: 'Uuids',
    volume: 3,
    current: 0xfedcba9876543211n,
    bitmap: { 0: 0n, 1: 0x1234567890abcdefn, 7: 0xffffffffffffffffn },
    history: [0x1111n, 0x2222222222222222n],
    flags: 0x8000_0005,
    diskState: 'UpToDate',
    dataBytes: 2 ** 40 + 12345,
    bitmapWeight: 2 ** 33 + 1,
  },
  { type: 'Uuids', volume: 0, current: 4n, bitmap: {}, history: [], flags: 0, diskState: 'Inconsistent', dataBytes: 0, bitmapWeight: 0 },
  { type: 'State', role: 'Primary', disks: [{ volume: 0, disk: 'UpToDate' }, { volume: 1, disk: 'Outdated' }] },
  { type: 'State', role: 'Secondary', disks: [], extra: { susp: false, note: 'x', list: [1, 2, null] } },
  { type: 'StateChangeRequest', id: 7, change: 'promote', params: { force: true } },
  { type: 'StateChangeRequest', id: 8, change: 'demote' },
  { type: 'StateChangeReply', id: 7, ok: false, reason: 'Multiple primaries not allowed by config' },
  { type: 'StateChangeReply', id: 8, ok: true },
  { type: 'PrBlob', volume: 1, id: 2 ** 40 + 9, blob: Buffer.from('{"generation":3,"registrations":{},"reservation":null}') },
  { type: 'PrBlob', volume: 0, id: 1, blob: Buffer.alloc(0) },
  { type: 'PrAck', volume: 1, id: 2 ** 40 + 9 },
  { type: 'Data', volume: 1, seq: 2 ** 52 + 3, offset: 2 ** 45 + 4096, flags: DATA_FUA | DATA_FLUSH, payload: bytes(4096, 3) },
  { type: 'Data', volume: 0, seq: 0, offset: 0, flags: 0, payload: Buffer.alloc(0) },
  { type: 'DataZeroes', volume: 3, seq: 2 ** 52 + 4, offset: 2 ** 45, flags: DATA_FUA, length: 0xffff_f000 },
  { type: 'WriteAck', volume: 2, seq: 99, kind: 'received' },
  { type: 'WriteAck', volume: 2, seq: 100, kind: 'written' },
  { type: 'NegAck', volume: 1, seq: 5 },
  { type: 'Barrier', seq: 12 },
  { type: 'BarrierAck', seq: 12 },
  { type: 'Flush', volume: 0, id: 42 },
  { type: 'FlushAck', volume: 0, id: 42 },
  { type: 'BitmapChunk', volume: 0, offset: 65536, flags: BITMAP_LAST, bits: bytes(1000, 4) },
  { type: 'RsDataRequest', volume: 0, offset: 1 << 30, length: 1 << 20, id: 77 },
  { type: 'RsDataReply', volume: 0, offset: 1 << 30, id: 77, payload: bytes(8192, 5) },
  { type: 'RsChecksumRequest', volume: 1, offset: 4096, length: 4096, id: 78, digest: bytes(32, 6) },
  { type: 'RsIsInSync', volume: 1, offset: 4096, id: 78 },
  { type: 'OvRequest', volume: 0, offset: 8192, length: 4096, id: 79 },
  { type: 'OvReply', volume: 0, offset: 8192, length: 4096, id: 79, digest: bytes(4, 7) },
  { type: 'Ping' },
  { type: 'PingAck' },
];

function wire(msgs: PeerMessage[]): Buffer {
  return Buffer.concat(msgs.flatMap((m) => encodeMessage(m)));
}

function decodeAll(dec: FrameDecoder, chunks: Buffer[]): PeerMessage[] {
  return chunks.flatMap((c) => dec.push(c)).map(decodeMessage);
}

function frameWithHeader(type: number, payload: Buffer, mutate?: (h: Buffer) => void): Buffer {
  const frame = Buffer.concat(encodeFrame(type, payload));
  mutate?.(frame);
  return frame;
}

describe('peer-wire codec', () => {
  test('the samples cover every message type', () => {
    const covered = new Set(samples.map((m) => m.type));
    for (const t of Object.keys(MESSAGE_TYPE_NUMBERS) as PeerMessageType[]) assert.ok(covered.has(t), `no sample for ${t}`);
  });

  test('every message type round-trips', () => {
    for (const m of samples) {
      const dec = new FrameDecoder();
      const frames = dec.push(Buffer.concat(encodeMessage(m)));
      assert.equal(frames.length, 1, m.type);
      assert.equal(frames[0]?.type, MESSAGE_TYPE_NUMBERS[m.type]);
      assert.deepEqual(decodeMessage(frames[0]!), m, m.type);
      assert.equal(dec.buffered, 0);
    }
  });

  test('data messages encode to header + the caller’s own buffer (no copy)', () => {
    const payload = bytes(MAX_DATA_BYTES, 9);
    const bufs = encodeMessage({ type: 'Data', volume: 0, seq: 1, offset: 0, flags: 0, payload });
    assert.equal(bufs.length, 2);
    assert.equal(bufs[1], payload);
    assert.equal(bufs[0]!.length, FRAME_HEADER_BYTES + 20);
    const reply = encodeMessage({ type: 'RsDataReply', volume: 0, offset: 0, id: 1, payload });
    assert.equal(reply[1], payload);
    const chunk = encodeMessage({ type: 'BitmapChunk', volume: 0, offset: 0, flags: 0, bits: payload });
    assert.equal(chunk[1], payload);
  });

  test('no input chunk is kept: the reader may reuse its memory at once (peer-link does)', () => {
    const all = wire([...samples, ...samples]);
    for (const size of [1, 7, 100, 4096, all.length]) {
      const dec = new FrameDecoder();
      const reused = Buffer.alloc(size);
      const msgs: PeerMessage[] = [];
      for (let at = 0; at < all.length; at += size) {
        const n = all.copy(reused, 0, at, Math.min(all.length, at + size));
        msgs.push(...dec.push(reused.subarray(0, n)).map(decodeMessage));
        reused.fill(0xee);
      }
      assert.deepEqual(msgs, [...samples, ...samples], `reads of ${size} bytes`);
    }
  });

  test('payloads are assembled where the allocator says, sized exactly', () => {
    const payload = bytes(10000, 10);
    const chunk = Buffer.concat(encodeMessage({ type: 'Data', volume: 0, seq: 1, offset: 0, flags: 0, payload }));
    const given: Buffer[] = [];
    const dec = new FrameDecoder(undefined, (type, length) => {
      assert.equal(type, MESSAGE_TYPE_NUMBERS.Data);
      const b = Buffer.alloc(length);
      given.push(b);
      return b;
    });
    const msg = decodeMessage(dec.push(chunk)[0]!);
    assert.equal(given.length, 1);
    assert.equal(given[0]!.length, payload.length + 20);
    assert.ok(msg.type === 'Data' && msg.payload.buffer === given[0]!.buffer);
    assert.ok(msg.type === 'Data' && msg.payload.equals(payload));
  });

  test('chunks appended without decoding in between decode in order', () => {
    const all = wire(samples);
    const dec = new FrameDecoder();
    for (let at = 0; at < all.length; at += 10) dec.append(all.subarray(at, at + 10));
    assert.equal(dec.buffered, all.length);
    const msgs: PeerMessage[] = [];
    for (let f = dec.next(); f !== null; f = dec.next()) msgs.push(decodeMessage(f));
    assert.deepEqual(msgs, samples);
    assert.equal(dec.buffered, 0);
  });

  test('decoding byte by byte', () => {
    const all = wire(samples);
    const dec = new FrameDecoder();
    const out: PeerMessage[] = [];
    for (let i = 0; i < all.length; i++) out.push(...dec.push(all.subarray(i, i + 1)).map(decodeMessage));
    assert.deepEqual(out, samples);
    assert.equal(dec.buffered, 0);
  });

  test('decoding random chunkings (seeded)', () => {
    const all = wire([...samples, ...samples]);
    for (let seed = 1; seed <= 50; seed++) {
      const r = rng(seed);
      const chunks: Buffer[] = [];
      for (let at = 0; at < all.length; ) {
        // Mix tiny and large pieces, and copy each so no chunk shares memory with `all`.
        const n = r() < 0.3 ? 1 + Math.floor(r() * 3) : 1 + Math.floor(r() * 9000);
        chunks.push(Buffer.from(all.subarray(at, at + n)));
        at += n;
      }
      assert.deepEqual(decodeAll(new FrameDecoder(), chunks), [...samples, ...samples], `seed ${seed}`);
    }
  });

  test('reads that land where directTarget() says decode the same, large payloads mostly in place', () => {
    const big = (seq: number, fill: number): PeerMessage => ({ type: 'Data', volume: 0, seq, offset: seq * 4096, flags: 0, payload: Buffer.alloc(MAX_DATA_BYTES, fill) });
    const msgs = [big(1, 1), ...samples, big(2, 2), big(3, 3), ...samples];
    const all = wire(msgs);
    for (let seed = 1; seed <= 20; seed++) {
      const { out, placedBytes } = readLikeSocket(all, new FrameDecoder(), seed);
      assert.deepEqual(out.map(decodeMessage), msgs, `seed ${seed}`);
      assert.ok(placedBytes > 0, `seed ${seed}: nothing read in place`);
    }
    // Back-to-back large frames (a 1 MiB write stream): after the first two (a read may take the
    // end of the first with the start of the second), every payload in place.
    const stream = wire([big(1, 1), big(2, 2), big(3, 3), big(4, 4)]);
    for (let seed = 1; seed <= 20; seed++) {
      const { out, placedBytes } = readLikeSocket(stream, new FrameDecoder(), seed);
      assert.equal(out.length, 4);
      assert.ok(placedBytes >= 2 * MAX_DATA_BYTES, `seed ${seed}: ${placedBytes} bytes read in place`);
    }
  });

  test('a 1 MiB frame fed in 1-byte chunks decodes in linear time', () => {
    const payload = bytes(MAX_DATA_BYTES, 11);
    const all = wire([{ type: 'Data', volume: 0, seq: 1, offset: 0, flags: 0, payload }]);
    const dec = new FrameDecoder();
    const t0 = performance.now();
    let frames = 0;
    for (let i = 0; i < all.length; i++) frames += dec.push(all.subarray(i, i + 1)).length;
    const ms = performance.now() - t0;
    assert.equal(frames, 1);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  test('encoders refuse values the wire cannot carry', () => {
    assert.throws(() => encodeMessage({ type: 'Data', volume: 0, seq: 2 ** 53, offset: 0, flags: 0, payload: Buffer.alloc(0) }), RangeError);
    assert.throws(() => encodeMessage({ type: 'Data', volume: 0, seq: -1, offset: 0, flags: 0, payload: Buffer.alloc(0) }), RangeError);
    assert.throws(() => encodeMessage({ type: 'Data', volume: 70000, seq: 0, offset: 0, flags: 0, payload: Buffer.alloc(0) }), RangeError);
    assert.throws(() => encodeMessage({ type: 'Data', volume: 0, seq: 0, offset: 0, flags: 0, payload: Buffer.alloc(MAX_DATA_BYTES + 1) }), RangeError);
    assert.throws(() => encodeMessage({ type: 'PrBlob', volume: 0, id: 0, blob: Buffer.alloc(MAX_PR_BYTES + 1) }), RangeError);
  });

  test('a reservation blob is checksummed even with data-integrity-alg none', () => {
    const f = Buffer.concat(encodeMessage({ type: 'PrBlob', volume: 0, id: 5, blob: bytes(900, 13) }, { dataIntegrity: false }));
    f[f.length - 1] = (f[f.length - 1] as number) ^ 0x01;
    assert.throws(() => new FrameDecoder().push(f), (e: unknown) => e instanceof ProtocolError && e.code === 'bad-checksum');
  });
});

describe('peer-wire protocol errors', () => {
  const good = Buffer.concat(encodeMessage({ type: 'Barrier', seq: 1 }));

  function expectError(chunks: Buffer[], code: string, match?: RegExp): void {
    const dec = new FrameDecoder();
    assert.throws(
      () => chunks.forEach((c) => dec.push(c)),
      (e: unknown) => e instanceof ProtocolError && e.code === code && (!match || match.test(e.message)),
    );
    // A failed stream stays failed: the connection must be dropped.
    assert.throws(() => dec.push(good), ProtocolError);
  }

  test('bad magic', () => {
    const f = Buffer.from(good);
    f.writeUInt32BE(0xdeadbeef, 0);
    expectError([f], 'bad-magic', /0xdeadbeef/);
  });

  test('oversize length is refused from the header alone', () => {
    const h = Buffer.alloc(FRAME_HEADER_BYTES);
    h.writeUInt32BE(FRAME_MAGIC, 0);
    h.writeUInt16BE(MESSAGE_TYPE_NUMBERS.Data, 4);
    h.writeUInt32BE(MAX_FRAME_PAYLOAD + 1, 8);
    expectError([h], 'too-large');
    const small = new FrameDecoder(4096);
    h.writeUInt32BE(4097, 8);
    assert.throws(() => small.push(h), (e: unknown) => e instanceof ProtocolError && e.code === 'too-large');
  });

  test('bit flips in payload, type, flags or CRC are caught', () => {
    const data = Buffer.concat(encodeMessage({ type: 'Data', volume: 0, seq: 1, offset: 0, flags: 0, payload: bytes(5000, 12) }));
    for (const at of [FRAME_HEADER_BYTES + 100, data.length - 1, 5, 7, 12, 15]) {
      const f = Buffer.from(data);
      f[at] = (f[at] as number) ^ 0x10;
      expectError([f.subarray(0, 1000), f.subarray(1000)], 'bad-checksum');
    }
  });

  test('unknown message type names the number', () => {
    const frames = new FrameDecoder().push(frameWithHeader(999, Buffer.from('x')));
    assert.throws(() => decodeMessage(frames[0]!), (e: unknown) => e instanceof ProtocolError && e.code === 'unknown-type' && /999/.test(e.message));
  });

  test('malformed payloads', () => {
    const T = MESSAGE_TYPE_NUMBERS;
    const cases: Array<[number, Buffer]> = [
      [T.Barrier, Buffer.alloc(7)],
      [T.AuthChallenge, Buffer.alloc(31)],
      [T.Hello, Buffer.from('not json')],
      [T.Hello, Buffer.from('{"protocolVersion":1,"nodeId":"1","resource":"r0","configHash":"","session":""}')],
      [T.Hello, Buffer.from('{"protocolVersion":1,"nodeId":1,"resource":"r0","configHash":"","session":"","unauthenticated":"yes"}')],
      [T.State, Buffer.from('{"role":"Boss","disks":[]}')],
      [T.State, Buffer.from('{"role":"Primary","disks":[{"volume":0,"disk":"Shiny"}]}')],
      [T.WriteAck, Buffer.from('000009000000000000000001', 'hex')],
      [T.Data, Buffer.alloc(19)],
      [T.Uuids, Buffer.alloc(41)],
      [T.Ping, Buffer.alloc(1)],
      [T.PrBlob, Buffer.alloc(11)],
      [T.PrBlob, Buffer.alloc(12 + MAX_PR_BYTES + 1)],
      [T.PrAck, Buffer.alloc(13)],
      // seq with high word above 2^21: not a safe integer
      [T.Barrier, Buffer.from('0020000000000000', 'hex')],
    ];
    for (const [type, payload] of cases) {
      const frame = new FrameDecoder().push(frameWithHeader(type, payload))[0]!;
      assert.throws(() => decodeMessage(frame), (e: unknown) => e instanceof ProtocolError && e.code === 'malformed', `type ${type} ${payload.toString('hex')}`);
    }
  });

  test('fuzz: any payload under any type decodes or throws ProtocolError, never anything else', () => {
    // A stray RangeError or TypeError would escape the link's error handling and crash the agent.
    const r = rng(2026);
    const types = Object.values(MESSAGE_TYPE_NUMBERS);
    const jsonish = ['{}', '[]', 'null', '{"ok":1}', '{"id":1.5}', '{"role":"Primary","disks":[null]}', '{"role":"Primary","disks":[{"volume":-1}]}', '{"params":[]}'];
    for (let i = 0; i < 20000; i++) {
      const type = types[Math.floor(r() * types.length)]!;
      let payload: Buffer;
      if (r() < 0.2) payload = Buffer.from(jsonish[Math.floor(r() * jsonish.length)]!);
      else {
        payload = Buffer.alloc(Math.floor(r() * (r() < 0.5 ? 48 : 200)));
        for (let k = 0; k < payload.length; k++) payload[k] = r() < 0.7 ? 0 : Math.floor(r() * 256);
      }
      const frame = new FrameDecoder().push(frameWithHeader(type, payload))[0]!;
      try {
        decodeMessage(frame);
      } catch (e) {
        assert.ok(e instanceof ProtocolError, `type ${type} payload ${payload.toString('hex')}: ${String(e)}`);
      }
    }
  });
});

test('data-integrity none: bulk data is not checksummed, the fields and header still are', () => {
  const payload = Buffer.alloc(4096, 0x5a);
  const msg = { type: 'Data', volume: 0, seq: 7, offset: 8192, flags: 0, payload } as const;
  const wire = Buffer.concat(encodeMessage(msg, { dataIntegrity: false }));
  const dataFlipped = Buffer.from(wire);
  dataFlipped[dataFlipped.length - 1]! ^= 0xff;
  const frames = new FrameDecoder().push(dataFlipped);
  assert.equal(frames.length, 1, 'a flipped data byte past the checked prefix goes unnoticed (TCP covers it)');
  assert.equal(frames[0]!.flags, 0);
  const fieldFlipped = Buffer.from(wire);
  fieldFlipped[16 + 12]! ^= 0x01; // inside the offset field
  assert.throws(() => new FrameDecoder().push(fieldFlipped), /checksum/);
  const checked = Buffer.concat(encodeMessage(msg));
  checked[checked.length - 1]! ^= 0xff;
  assert.throws(() => new FrameDecoder().push(checked), /checksum/, 'with data integrity on, data is covered');
});
