import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  BHS_LENGTH,
  decodeLun,
  decodeRequest,
  encodeDataIn,
  encodeLun,
  encodeScsiResponse,
  framePieces,
  Op,
  PduError,
  PduFramer,
  type DigestSettings,
  type RawPdu,
} from '../../../agent/iscsi/pdu.js';
import { readLikeSocket } from '../../support/socket-reads.js';

// RFC 3720 appendix B.4: a SCSI Read (10) command PDU and its CRC32C (sent LSB first).
const READ10_PDU = Buffer.from(
  ['01c00000', '00000000', '00000000', '00000000', '14000000', '00000400', '00000014', '00000018', '28000000', '00000000', '02000000', '00000000'].join(''),
  'hex',
);

function flip(b: Buffer, i: number): void {
  b.writeUInt8(b.readUInt8(i) ^ 1, i);
}

function raw(bhs: Buffer, data = Buffer.alloc(0)): RawPdu {
  return { bhs, ahs: Buffer.alloc(0), data };
}

describe('pdu codec', () => {
  test('decodes the RFC 3720 B.4 SCSI Read(10) command', () => {
    const p = decodeRequest(raw(READ10_PDU));
    assert.equal(p.op, Op.ScsiCommand);
    if (p.op !== Op.ScsiCommand) return;
    assert.equal(p.immediate, false);
    assert.equal(p.final, true);
    assert.equal(p.read, true);
    assert.equal(p.itt, 0x14000000);
    assert.equal(p.edtl, 0x400);
    assert.equal(p.cmdSN, 0x14);
    assert.equal(p.cdb[0], 0x28);
  });

  test('header digest of the RFC 3720 B.4 PDU goes out as 56 3a 96 d9', () => {
    const pieces = framePieces(READ10_PDU, undefined, { header: true, data: false });
    assert.equal(pieces.length, 2);
    assert.deepEqual(pieces[1], Buffer.from([0x56, 0x3a, 0x96, 0xd9]));
  });

  test('LUN encoding round-trips peripheral and flat addressing', () => {
    for (const lun of [0, 1, 255, 256, 1000, 16383]) assert.equal(decodeLun(encodeLun(lun), 0), lun);
    assert.deepEqual(encodeLun(3), Buffer.from([0, 3, 0, 0, 0, 0, 0, 0]));
    assert.deepEqual(encodeLun(300).subarray(0, 2), Buffer.from([0x41, 0x2c]));
  });

  test('unknown opcodes raise PduError with reason "command not supported"', () => {
    const b = Buffer.alloc(BHS_LENGTH);
    b[0] = 0x1c;
    assert.throws(() => decodeRequest(raw(b)), (e: unknown) => e instanceof PduError && e.reason === 0x05);
  });

  test('Data-In carries status, residual and StatSN only with the S bit', () => {
    const seq = { statSN: 7, expCmdSN: 8, maxCmdSN: 40 };
    const mid = encodeDataIn({ lun: 0, itt: 1, final: false, residualFlags: 0, residual: 0, dataSN: 0, bufferOffset: 0, dataLength: 512, seq });
    assert.equal(mid[1], 0x00);
    assert.equal(mid.readUInt32BE(24), 0);
    const last = encodeDataIn({ lun: 0, itt: 1, final: true, status: 0, residualFlags: 0x02, residual: 100, dataSN: 1, bufferOffset: 512, dataLength: 512, seq });
    assert.equal(last[1], 0x80 | 0x01 | 0x02);
    assert.equal(last.readUInt32BE(24), 7);
    assert.equal(last.readUInt32BE(44), 100);
    assert.equal(last.readUInt32BE(40), 512);
  });

  test('SCSI Response: data segment length counts the sense length field', () => {
    const b = encodeScsiResponse({ itt: 9, status: 2, senseLength: 18, residualFlags: 0x04, residual: 512, expDataSN: 0, seq: { statSN: 1, expCmdSN: 2, maxCmdSN: 3 } });
    assert.equal(b[0], Op.ScsiResponse);
    assert.equal(b[1], 0x84);
    assert.equal(b[3], 2);
    assert.equal(b.readUIntBE(5, 3), 20);
  });
});

describe('framer', () => {
  function pduWithData(n: number): Buffer {
    const bhs = Buffer.alloc(BHS_LENGTH);
    bhs[0] = Op.NopOut | 0x40;
    bhs.writeUIntBE(n, 5, 3);
    bhs.writeUInt32BE(0x1234, 16);
    return Buffer.concat(framePieces(bhs, Buffer.alloc(n, 0xab), { header: false, data: false }));
  }

  test('frames PDUs split at every byte boundary, keeping nothing of the reads', () => {
    const wire = Buffer.concat([pduWithData(5), pduWithData(0), pduWithData(8)]);
    for (let cut = 1; cut < wire.length; cut++) {
      const f = new PduFramer(1 << 16);
      // One read buffer, overwritten after each read, as the target's connections use it.
      const reused = Buffer.alloc(wire.length);
      const evs = [];
      for (const [from, to] of [[0, cut], [cut, wire.length]] as const) {
        wire.copy(reused, 0, from, to);
        evs.push(...f.push(reused.subarray(0, to - from)));
        reused.fill(0x11);
      }
      assert.deepEqual(
        evs.map((e) => (e.kind === 'pdu' ? [e.pdu.data.length, e.pdu.data.every((b) => b === 0xab), e.pdu.bhs[0]] : -1)),
        [[5, true, Op.NopOut | 0x40], [0, true, Op.NopOut | 0x40], [8, true, Op.NopOut | 0x40]],
        `cut at ${cut}`,
      );
    }
  });

  test('reads that land where directTarget() says give the same PDUs, large segments mostly in place', () => {
    const pdu = (n: number, fill: number, digests: DigestSettings) => {
      const bhs = Buffer.alloc(BHS_LENGTH);
      bhs[0] = Op.NopOut | 0x40;
      bhs.writeUIntBE(n, 5, 3);
      bhs.writeUInt32BE(n, 16);
      return Buffer.concat(framePieces(bhs, Buffer.alloc(n, fill), digests));
    };
    const sizes = [262144, 5, 300001, 0, 4096, 262144, 262144, 70000, 3];
    for (const digests of [{ header: false, data: false }, { header: true, data: true }]) {
      const wire = Buffer.concat(sizes.map((n, i) => pdu(n, i + 1, digests)));
      for (let seed = 1; seed <= 20; seed++) {
        const f = new PduFramer(1 << 20);
        f.digests = digests;
        // The 300001-byte segment goes to a place of its own, as a Data-Out into its task's buffer.
        const placedInto = Buffer.alloc(300001);
        f.place = (_bhs, length) => (length === 300001 ? placedInto : undefined);
        const { out, placedBytes } = readLikeSocket(wire, f, seed);
        assert.deepEqual(
          out.map((e) => (e.kind === 'pdu' ? [e.pdu.data.length, e.pdu.bhs.readUInt32BE(16)] : e.kind)),
          sizes.map((n) => [n, n]),
          `seed ${seed}, digests ${JSON.stringify(digests)}`,
        );
        out.forEach((e, i) => assert.ok(e.kind === 'pdu' && e.pdu.data.every((b) => b === i + 1), `PDU ${i} data, seed ${seed}`));
        assert.ok(out[2]!.kind === 'pdu' && out[2]!.pdu.data === placedInto);
        assert.ok(placedBytes > 0, `seed ${seed}: nothing read in place`);
      }
    }
    // A stream of large segments (1 MiB writes as 256 KiB PDUs): after the first two (a read may
    // take the end of the first with the start of the second), every data byte in place.
    const wire = Buffer.concat(Array.from({ length: 8 }, (_, i) => pdu(262144, i + 1, { header: false, data: false })));
    for (let seed = 1; seed <= 20; seed++) {
      const { out, placedBytes } = readLikeSocket(wire, new PduFramer(1 << 20), seed);
      assert.equal(out.length, 8);
      assert.ok(placedBytes >= 6 * 262144, `seed ${seed}: ${placedBytes} bytes read in place`);
    }
  });

  test('a data segment lands where place() says, asked only after the PDUs before it were taken', () => {
    const wire = Buffer.concat([pduWithData(5), pduWithData(8)]);
    const f = new PduFramer(1 << 16);
    const target = Buffer.alloc(20);
    const asked: number[] = [];
    let taken = 0;
    f.place = (bhs, length) => {
      asked.push(taken);
      assert.equal(bhs[0], Op.NopOut | 0x40);
      return length === 8 ? target.subarray(4, 12) : undefined;
    };
    f.append(wire);
    const lengths: number[] = [];
    for (let ev = f.next(); ev !== null; ev = f.next()) {
      assert.ok(ev.kind === 'pdu');
      lengths.push(ev.pdu.data.length);
      taken++;
      if (ev.pdu.data.length === 8) assert.ok(ev.pdu.data.buffer === target.buffer && ev.pdu.data.byteOffset === target.byteOffset + 4);
    }
    assert.deepEqual(lengths, [5, 8]);
    assert.deepEqual(asked, [0, 1]);
    assert.ok(target.subarray(4, 12).every((b) => b === 0xab));
  });

  test('reports oversize segments and digest errors', () => {
    const f = new PduFramer(4);
    assert.equal(f.push(pduWithData(8))[0]?.kind, 'too-long');
    const g = new PduFramer(1 << 16);
    g.digests = { header: true, data: true };
    const bhs = Buffer.alloc(BHS_LENGTH);
    bhs.writeUIntBE(3, 5, 3);
    const wire = Buffer.concat(framePieces(bhs, Buffer.from('abc'), g.digests));
    assert.equal(g.push(wire)[0]?.kind, 'pdu');
    const badData = Buffer.from(wire);
    flip(badData, BHS_LENGTH + 4);
    assert.equal(g.push(badData)[0]?.kind, 'data-digest-error');
    const badHeader = Buffer.from(wire);
    flip(badHeader, 20);
    assert.equal(g.push(badHeader)[0]?.kind, 'header-digest-error');
  });
});
